# RetinaNet ResNet-50, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): 19.1.
_base_ = [
    './_base_/models/retinanet_r50_fpn.py', './_base_/datasets/aodraw_srgb.py',
    './_base_/schedules/sgd_1x.py', './_base_/default_runtime.py'
]
optim_wrapper = dict(optimizer=dict(lr=0.01))  # one-stage detectors
