# ViT-B/16, MAE 1600 ep (SSL): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 38.3 / 37.0.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./_base_/models/vit-b16.py', './_base_/datasets/imagenet_s.py', './_base_/schedules/semi_100e.py', './_base_/default_runtime.py']
model = dict(backbone_checkpoint='checkpoints/mae_pretrain_vit_base.pth', checkpoint_layout='timm')
optim_wrapper = dict(optimizer=dict(lr=0.0005, weight_decay=0.05), paramwise_cfg=dict(layer_decay_rate=0.6))
