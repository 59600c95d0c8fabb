# Cascade R-CNN Swin-T, 1x schedule, 1280 px RAW slices.
# Input: RAW (backbone from RAW pre-training with sRGB distillation).
# Published AP (AODRaw paper, test set): 29.8.
_base_ = ['./cascade-rcnn_swin-t_fpn_1x_aodraw-raw-pretraining.py', './_base_/datasets/aodraw_slice.py']

train_dataloader = {{_base_.slice_train_dataloader}}
val_dataloader = {{_base_.slice_test_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.slice_evaluator}}
test_evaluator = val_evaluator
