# Cascade R-CNN ConvNeXt-T, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 34.0.
_base_ = [
    './_base_/models/cascade-rcnn_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/adamw_1x.py', './_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='AODRawConvNeXt',
        arch='tiny',
        out_indices=[0, 1, 2, 3],
        drop_path_rate=0.4,
        layer_scale_init_value=1.0,
        gap_before_final_norm=False,
        init_cfg=dict(type='Pretrained', checkpoint='https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth', prefix='backbone.')),
    neck=dict(in_channels=[96, 192, 384, 768]))
# layer-wise learning-rate decay 0.75
optim_wrapper = dict(
    constructor='LearningRateDecayOptimizerConstructor',
    optimizer=dict(lr=0.0002),
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=6))
