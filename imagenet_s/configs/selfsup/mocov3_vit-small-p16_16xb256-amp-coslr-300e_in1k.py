# MoCo v3 ViT-S/16, MMPretrain's published recipe (300 epochs, 16 x 256 images, AdamW 2.4e-3, wd 0.1, temperature
# 0.2, asymmetric blur/solarize views). Meant to show: the base MTE is measured against (mte_mocov3_vit-small-* is
# this recipe plus the auxiliary tokens, nothing else changed).
_base_ = ['./_base_/mmpretrain_runtime.py']

data_root = 'data/imagenet/'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         to_rgb=True)
_color = dict(type='RandomApply', prob=0.8,
              transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)])
_gray = dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989))
_crop = dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.08, 1.), backend='pillow')
view_pipeline1 = [_crop, _color, _gray,
                  dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=1.),
                  dict(type='Solarize', thr=128, prob=0.), dict(type='RandomFlip', prob=0.5)]
view_pipeline2 = [_crop, _color, _gray,
                  dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.1),
                  dict(type='Solarize', thr=128, prob=0.2), dict(type='RandomFlip', prob=0.5)]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView', num_views=[1, 1], transforms=[view_pipeline1, view_pipeline2]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=256, num_workers=8, persistent_workers=True, drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='train', pipeline=train_pipeline))

temperature = 0.2
model = dict(
    type='MoCoV3',
    base_momentum=0.01,  # MMPretrain 1.2's CosineEMA convention: 1 - 0.99
    backbone=dict(type='MoCoV3ViT', arch='mocov3-small', img_size=224, patch_size=16, stop_grad_conv1=True),
    neck=dict(type='NonLinearNeck', in_channels=384, hid_channels=4096, out_channels=256, num_layers=3,
              with_bias=False, with_last_bn=True, with_last_bn_affine=False, with_last_bias=False,
              with_avg_pool=False),
    head=dict(type='MoCoV3Head',
              predictor=dict(type='NonLinearNeck', in_channels=256, hid_channels=4096, out_channels=256,
                             num_layers=2, with_bias=False, with_last_bn=True, with_last_bn_affine=False,
                             with_last_bias=False, with_avg_pool=False),
              loss=dict(type='CrossEntropyLoss', loss_weight=2 * temperature), temperature=temperature))

optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(type='AdamW', lr=2.4e-3, weight_decay=0.1))
find_unused_parameters = True
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=260, by_epoch=True, begin=40, end=300, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300)
auto_scale_lr = dict(base_batch_size=4096)
