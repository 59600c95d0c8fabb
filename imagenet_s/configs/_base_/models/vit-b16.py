# ViT-B/16 (MMPretrain's VisionTransformer): final LayerNorm on the patch tokens, logits at stride 16.
_base_ = ['./segmentor.py']
model = dict(
    backbone=dict(type='mmpretrain.VisionTransformer', arch='base', img_size=224, patch_size=16,
                  out_type='featmap', final_norm=True, with_cls_token=True, drop_path_rate=0.1,
                  interpolate_mode='bicubic'),
    decode_head=dict(in_channels=768))
