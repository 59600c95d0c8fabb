# ResNet-50 D32, PASS 100 ep (SSL): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 21.0 / 20.3.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./_base_/models/r50-d32.py', './_base_/datasets/imagenet_s.py', './_base_/schedules/semi_100e.py', './_base_/default_runtime.py']
model = dict(backbone_checkpoint='checkpoints/pass_resnet50_919.pth', checkpoint_layout='torchvision')
optim_wrapper = dict(optimizer=dict(lr=0.0005, weight_decay=0.0005), paramwise_cfg=dict(layer_decay_rate=0.4))
