# Faster R-CNN ResNet-50, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 23.3.
_base_ = [
    './_base_/models/faster-rcnn_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/sgd_1x.py', './_base_/default_runtime.py'
]
