# ConvNeXt-T (MMPretrain), head: LayerNorm, dropout, 1x1 conv to (N + 1) * 4^2 channels as 4 x 4 sub-pixels.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(type='mmpretrain.ConvNeXt', arch='tiny', out_indices=(3, ), drop_path_rate=0.2,
                  gap_before_final_norm=False),
    decode_head=dict(in_channels=768, layer_norm=True, sub_pixel=4, dropout_ratio=0.1))
