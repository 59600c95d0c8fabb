# The rtmdet-tiny real-time recipe on downsampled RAW (images_downsampled_raw, upstream's RAW loader: gamma 1/2.2, BGR).
# Published AP (AODRaw paper, test set): none (not in the paper).
_base_ = './rtmdet-tiny_640_aodraw-srgb.py'

train_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_raw_folder}}), pipeline={{_base_.rt_raw_train}}))
val_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_raw_folder}}), pipeline={{_base_.rt_raw_test}}))
test_dataloader = val_dataloader
