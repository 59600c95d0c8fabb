# ViT-B/16, SERE 100 ep + supervised (third-party mirror) (SSL+Sup): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 63.0 / 63.3.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./_base_/models/vit-b16.py', './_base_/datasets/imagenet_s.py', './_base_/schedules/semi_100e.py', './_base_/default_runtime.py']
# lr / layer decay: not published for SERE ViT-B; MAE ViT-B SSL+Sup's values.
model = dict(backbone_checkpoint='checkpoints/sere_vit_base_100ep_sup.pth', checkpoint_layout='timm')
optim_wrapper = dict(optimizer=dict(lr=0.0001, weight_decay=0.05), paramwise_cfg=dict(layer_decay_rate=0.4))
