# Cascade R-CNN ConvNeXt-T, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 34.0.
_base_ = [
    './_base_/models/cascade-rcnn_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/adamw_1x.py', './_base_/default_runtime.py', './_base_/backbones/convnext-t.py'
]
# MMPretrain's ConvNeXt, imported as MMDetection's own ConvNeXt configs do, besides the AODRaw plug-in.
custom_imports = dict(imports=['aodraw.mmdet', 'mmpretrain.models'], allow_failed_imports=False)
model = dict(backbone={{_base_.convnext_t_backbone}}, neck=dict(in_channels={{_base_.convnext_t_channels}}))
optim_wrapper = {{_base_.convnext_t_optim_wrapper}}
