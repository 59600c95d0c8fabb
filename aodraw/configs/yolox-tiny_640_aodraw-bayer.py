# The YOLOX-tiny real-time recipe on packed Bayer planes: `aodraw convert bayer --downsample 3` into
# images_bayer_downsampled/ (uint16 4 x H/6 x W/6 + sidecars); the CSPDarknet Focus stem takes the 4 planes.
# Published AP (AODRaw paper, test set): none (not in the paper).
_base_ = './yolox-tiny_640_aodraw-srgb.py'

model = dict(backbone=dict(type='CSPDarknetBayer', in_channels=4))

train_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_bayer_folder}}), pipeline={{_base_.rt_bayer_train}}))
val_dataloader = dict(dataset=dict(
    data_prefix=dict(img={{_base_.rt_bayer_folder}}), pipeline={{_base_.rt_bayer_test}}))
test_dataloader = val_dataloader
