# ViT-S/16, SERE 100 ep (SSL): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 41.0 / 40.2.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./_base_/models/vit-s16.py', './_base_/datasets/imagenet_s.py', './_base_/schedules/semi_100e.py', './_base_/default_runtime.py']
model = dict(backbone_checkpoint='checkpoints/sere_vit_small_100ep.pth', checkpoint_layout='timm')
optim_wrapper = dict(optimizer=dict(lr=0.0005, weight_decay=0.05), paramwise_cfg=dict(layer_decay_rate=0.5))
