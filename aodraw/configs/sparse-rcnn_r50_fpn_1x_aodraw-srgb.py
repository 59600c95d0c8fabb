# Sparse R-CNN ResNet-50, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 15.6.
_base_ = [
    './_base_/models/sparse-rcnn_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/sgd_1x.py', './_base_/default_runtime.py'
]
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=0.000025, weight_decay=0.0001),
    clip_grad=dict(max_norm=1, norm_type=2))
