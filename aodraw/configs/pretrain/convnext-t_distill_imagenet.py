_base_ = ['./_base_distill.py']
# Same backbone dict as the ConvNeXt-T detection recipes (all four outputs, per-stage norms, layer scale).
model = dict(
    backbone=dict(type='mmpretrain.ConvNeXt', arch='tiny', out_indices=[0, 1, 2, 3], drop_path_rate=0.1,
                  layer_scale_init_value=1.0, gap_before_final_norm=False),
    num_classes=1000,
    # MMPretrain's convnext-tiny_32xb128_in1k checkpoint
    teacher_checkpoint='checkpoints/convnext-tiny_32xb128_in1k.pth')
optimizer = dict(type='AdamW', lr=2e-4, weight_decay=0.05)
work_dir = 'work_dirs/pretrain_convnext-t_distill'
