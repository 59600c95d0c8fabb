# Cascade R-CNN ConvNeXt-T, 1x schedule, 1280 px RAW slices.
# Input: RAW (sRGB-pretrained backbone).
# Published AP (AODRaw paper, test set): 29.7.
_base_ = './cascade-rcnn_convnext-t_fpn_1x_aodraw-raw.py'

slice_train_ann = 'annotations/train_annotations_slice_1280_300.json'
slice_test_ann = 'annotations/test_annotations_slice_1280_300.json'
train_dataloader = dict(dataset=dict(times=1, dataset=dict(
    ann_file=slice_train_ann, data_prefix=dict(img='images_slice_raw/'))))
val_dataloader = dict(dataset=dict(ann_file=slice_test_ann, data_prefix=dict(img='images_slice_raw/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file='data/AODRaw/' + slice_test_ann, preset='aodraw-slice')
test_evaluator = val_evaluator
