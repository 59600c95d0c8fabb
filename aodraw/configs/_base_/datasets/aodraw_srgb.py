# AODRaw, downsampled sRGB images (1/3 scale JPGs) with the downsampled annotation files.
# Train: random resize between (2048, 800) and (2048, 1024), flip 0.5, the set repeated 4x per epoch;
# test: (2048, 1024). Batch 2 per GPU (the published runs: 8 GPUs). Scored with the official AODRaw metric.
dataset_type = 'AODRawDataset'
data_root = 'data/AODRaw/'
train_ann = 'annotations/train_annotations_downsample_scale3_bbox_min_size32.json'
test_ann = 'annotations/test_annotations_downsample_scale3_bbox_min_size32.json'
meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction', 'tag')

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(2048, 800), (2048, 1024)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type='RepeatDataset',
        times=4,
        dataset=dict(
            type=dataset_type,
            data_root=data_root,
            ann_file=train_ann,
            data_prefix=dict(img='images_downsampled_srgb/'),
            filter_cfg=dict(filter_empty_gt=True, min_size=32),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file=test_ann,
        data_prefix=dict(img='images_downsampled_srgb/'),
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(type='AODRawMetric', ann_file=data_root + test_ann, preset='aodraw')
test_evaluator = val_evaluator
