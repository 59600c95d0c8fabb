# ImageNet-S semi-supervised protocol: train on train-semi with masks, evaluate on validation (the layout that
# `imagenet-s prepare` builds under data_root/ImageNetS{N}).
dataset_type = 'ImageNetSDataset'
data_root = 'data/ImageNetS'
subset = 919
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageNetSAnnotations'),
    dict(type='RandomResizedCropWithMask', size=224, scale=(0.14, 1.0), ratio=(3 / 4, 4 / 3)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.RandomApply', prob=0.8,
         transforms=[dict(type='mmpretrain.ColorJitter', brightness=0.8, contrast=0.8, saturation=0.8, hue=0.2)]),
    dict(type='mmpretrain.RandomGrayscale', prob=0.2, keep_channels=True),
    dict(type='mmpretrain.GaussianBlur', prob=0.5, magnitude_range=(0.1, 2.0), magnitude_std='inf'),
    dict(type='PackSegInputs'),
]
# whole image, shorter side 256; predictions restored to the original size by ImageNetSSegmentor (1000^2 rule)
test_pipeline = [
    dict(type='LoadImageNetSImage'),
    dict(type='ResizeShorterSide', size=256),
    dict(type='LoadImageNetSAnnotations'),
    dict(type='PackSegInputs', meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                                          'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label')),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, subset=subset, split='train-semi', data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, subset=subset, split='validation', data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='LUSSMetric', mean='official')
test_evaluator = val_evaluator
