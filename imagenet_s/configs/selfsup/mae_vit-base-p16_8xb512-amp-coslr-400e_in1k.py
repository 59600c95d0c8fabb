# MAE ViT-B/16, MMPretrain's MAE recipe (400 epochs, 8 x 512 images, AdamW 1.5e-4 x 4096 / 256, mask ratio 0.75,
# normalised-pixel MSE). Meant to show: the baseline PR-MIM is measured against, at exactly the settings that
# partial_* and prmim_* inherit (they change the decoder only). For MAE's 800/1600-epoch schedules set
# train_cfg.max_epochs and the cosine scheduler's T_max/end accordingly.
_base_ = ['./_base_/mmpretrain_runtime.py']
custom_imports = dict(imports=['imagenet_s.selfsup.prmim'], allow_failed_imports=False)

data_root = 'data/imagenet/'
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0), backend='pillow',
         interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=512, num_workers=8, persistent_workers=True, sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='train', pipeline=train_pipeline))

model = dict(
    type='MAE',
    backbone=dict(type='MAEViT', arch='b', patch_size=16, mask_ratio=0.75),
    neck=dict(type='MAEPretrainDecoder', patch_size=16, in_chans=3, embed_dim=768, decoder_embed_dim=512,
              decoder_depth=8, decoder_num_heads=16, mlp_ratio=4.),
    head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=16,
              loss=dict(type='PixelReconstructionLoss', criterion='L2')),
    init_cfg=[dict(type='Xavier', distribution='uniform', layer='Linear'),
              dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0)])

optim_wrapper = dict(
    type='AmpOptimWrapper', loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'ln': dict(decay_mult=0.0), 'bias': dict(decay_mult=0.0),
                                    'pos_embed': dict(decay_mult=0.), 'mask_token': dict(decay_mult=0.),
                                    'cls_token': dict(decay_mult=0.)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=40, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=360, by_epoch=True, begin=40, end=400, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=400)
auto_scale_lr = dict(base_batch_size=4096)
