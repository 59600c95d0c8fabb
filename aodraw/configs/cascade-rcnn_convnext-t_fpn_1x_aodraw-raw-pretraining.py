# Cascade R-CNN ConvNeXt-T, 1x schedule, 1/3 downsampled images.
# Input: RAW (backbone from RAW pre-training with sRGB distillation).
# Published AP (AODRaw paper, test set): 34.8.
_base_ = './cascade-rcnn_convnext-t_fpn_1x_aodraw-raw.py'

# Backbone weights from RAW pre-training with sRGB distillation (``aodraw pretrain train`` then ``aodraw pretrain
# export``); no weights were published. Point the path at your export, e.g.
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pretrain/BACKBONE.pth
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint="work_dirs/pretrain_convnext-t/backbone.pth")))
