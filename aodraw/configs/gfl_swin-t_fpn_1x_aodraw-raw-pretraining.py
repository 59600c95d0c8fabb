# GFL Swin-T, 1x schedule, 1/3 downsampled images.
# Input: RAW (backbone from RAW pre-training with sRGB distillation).
# Published AP (AODRaw paper, test set): 30.7.
_base_ = './gfl_swin-t_fpn_1x_aodraw-raw.py'

# Backbone weights from RAW pre-training with sRGB distillation (``aodraw pretrain train`` then ``aodraw pretrain
# export``); no weights were published. Point the path at your export, e.g.
#   --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/pretrain/BACKBONE.pth
model = dict(backbone=dict(init_cfg=dict(type="Pretrained", checkpoint="work_dirs/pretrain_swin-t/backbone.pth")))
