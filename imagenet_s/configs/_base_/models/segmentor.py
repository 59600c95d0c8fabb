# The group's ImageNetSegModel on MMSegmentation: backbone, one 1x1-conv head (LUSSHead), N + 1 classes, ignore 1000.
norm_cfg = dict(type='SyncBN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    size=(224, 224),  # the training crops (a batch of test images is stacked as it is)
    pad_val=0,
    seg_pad_val=1000)
model = dict(
    type='ImageNetSSegmentor',
    data_preprocessor=data_preprocessor,
    backbone_checkpoint=None,  # the pre-trained backbone, loaded strictly (see imagenet_s/mmseg/checkpoints.py)
    checkpoint_layout='auto',
    backbone=dict(),
    decode_head=dict(
        type='LUSSHead',
        in_channels=768,
        num_classes=920,
        dropout_ratio=0.0,
        ignore_index=1000,
        align_corners=False,
        loss_upsample=2,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0, avg_non_ignore=True)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole', max_pixels=1000 * 1000, longer_side=1000))
