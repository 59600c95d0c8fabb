# Deformable DETR ResNet-50, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 16.6.
_base_ = [
    './_base_/models/deformable-detr_r50.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/sgd_1x.py', './_base_/default_runtime.py'
]
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=0.0002, weight_decay=0.0001),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(custom_keys={
        'backbone': dict(lr_mult=0.1),
        'sampling_offsets': dict(lr_mult=0.1),
        'reference_points': dict(lr_mult=0.1)}))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[11], gamma=0.1)]
