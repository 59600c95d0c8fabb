# ConvNeXt-T, supervised 300 ep (Sup): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 48.7 / 48.8.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./_base_/models/convnext-t.py', './_base_/datasets/imagenet_s.py', './_base_/schedules/semi_100e.py', './_base_/default_runtime.py']
model = dict(backbone_checkpoint='checkpoints/convnext-tiny_32xb128_in1k_20221207-998cf3e9.pth', checkpoint_layout='mmpretrain')
optim_wrapper = dict(optimizer=dict(lr=0.00025, weight_decay=0.05), paramwise_cfg=dict(layer_decay_rate=0.6))
