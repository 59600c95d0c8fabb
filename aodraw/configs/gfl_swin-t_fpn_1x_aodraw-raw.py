# GFL Swin-T, 1x schedule, 1/3 downsampled images.
# Input: RAW (sRGB-pretrained backbone).
# Published AP (AODRaw paper, test set): 29.9.
_base_ = ['./gfl_swin-t_fpn_1x_aodraw-srgb.py', './_base_/datasets/raw_pipelines.py']

train_dataloader = dict(dataset=dict(dataset=dict(
    data_prefix=dict(img='images_downsampled_raw/'), pipeline={{_base_.raw_train_pipeline}})))
val_dataloader = dict(dataset=dict(
    data_prefix=dict(img='images_downsampled_raw/'), pipeline={{_base_.raw_test_pipeline}}))
test_dataloader = val_dataloader
