# Faster R-CNN ConvNeXt-T, 1x schedule, 1/3 downsampled images.
# Input: RAW (backbone from RAW pre-training with sRGB distillation).
# Published AP (AODRaw paper, test set): none.
_base_ = './faster-rcnn_convnext-t_fpn_1x_aodraw-raw.py'

# Backbone weights from RAW pre-training with sRGB distillation; none were published. Make them with
#   aodraw pretrain train aodraw/configs/pretrain/convnext-t_distill_imagenet.py --cfg-options data.root=IMAGENET/train
#   aodraw pretrain export work_dirs/pretrain_convnext-t_distill/latest.pth --out checkpoints/convnext-t_raw-pretrained.pth
# or point init_cfg.checkpoint at another export (--cfg-options model.backbone.init_cfg.checkpoint=...).
model = dict(backbone=dict(
    init_cfg=dict(_delete_=True, type='Pretrained', checkpoint='checkpoints/convnext-t_raw-pretrained.pth')))
