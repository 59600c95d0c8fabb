# ResNet-50 at stride 32 (MMPretrain's ResNet, torchvision's layout), 1x1-conv head, x2 bilinear for the loss.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(type='mmpretrain.ResNet', depth=50, out_indices=(3, ), norm_cfg={{_base_.norm_cfg}},
                  norm_eval=False, style='pytorch'),
    decode_head=dict(in_channels=2048))
