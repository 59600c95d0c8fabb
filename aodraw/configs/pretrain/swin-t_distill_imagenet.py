_base_ = ['./_base_distill.py']
# Same backbone dict as MMDetection's Swin-T recipes (convert_weights only matters for init_cfg, unused here).
model = dict(
    backbone=dict(type='SwinTransformer', embed_dims=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24],
                  window_size=7, mlp_ratio=4, qkv_bias=True, qk_scale=None, drop_rate=0., attn_drop_rate=0.,
                  drop_path_rate=0.1, patch_norm=True, out_indices=(0, 1, 2, 3), with_cp=False,
                  convert_weights=False),
    num_classes=1000,
    # the original swin_tiny_patch4_window7_224.pth (microsoft/Swin-Transformer), converted on load
    teacher_checkpoint='checkpoints/swin_tiny_patch4_window7_224.pth')
optimizer = dict(type='AdamW', lr=1e-4, weight_decay=0.05)
work_dir = 'work_dirs/pretrain_swin-t_distill'
