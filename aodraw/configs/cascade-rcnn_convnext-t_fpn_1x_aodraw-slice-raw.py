# Cascade R-CNN ConvNeXt-T, 1x schedule, 1280 px RAW slices.
# Input: RAW (sRGB-pretrained backbone).
# Published AP (AODRaw paper, test set): 29.7.
_base_ = ['./cascade-rcnn_convnext-t_fpn_1x_aodraw-raw.py', './_base_/datasets/aodraw_slice.py']

train_dataloader = {{_base_.slice_train_dataloader}}
val_dataloader = {{_base_.slice_test_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.slice_evaluator}}
test_evaluator = val_evaluator
