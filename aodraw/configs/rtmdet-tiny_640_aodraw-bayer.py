# The RTMDet-tiny real-time recipe on packed Bayer planes: `aodraw convert bayer --downsample 3` into
# images_bayer_downsampled/ (uint16 4 x H/6 x W/6 + sidecars); the CSPNeXt stem takes the 4 planes (its first
# convolution starts from scratch, the rest of the backbone from ImageNet). Mean/std per plane R, G, B, G.
# Published AP (AODRaw paper, test set): none (not in the paper).
_base_ = './rtmdet-tiny_640_aodraw-srgb.py'

model = dict(
    data_preprocessor=dict(type='BayerDataPreprocessor', mean=[123.675, 116.28, 103.53, 116.28],
                           std=[58.395, 57.12, 57.375, 57.12], bgr_to_rgb=False),
    backbone=dict(type='CSPNeXtBayer', in_channels=4))

train_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_bayer_folder}}), pipeline={{_base_.rt_bayer_train}}))
val_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_bayer_folder}}), pipeline={{_base_.rt_bayer_test}}))
test_dataloader = val_dataloader
