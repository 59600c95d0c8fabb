# GFL Swin-T, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 30.1.
_base_ = [
    './_base_/models/gfl_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/adamw_1x.py', './_base_/default_runtime.py', './_base_/backbones/swin-t.py'
]
model = dict(backbone={{_base_.swin_t_backbone}}, neck=dict(in_channels={{_base_.swin_t_channels}}))
optim_wrapper = {{_base_.swin_t_optim_wrapper}}
