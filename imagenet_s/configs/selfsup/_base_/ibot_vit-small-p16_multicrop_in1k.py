# The iBOT-style ViT-S/16 pre-training shared by ibot_* and sere_* ViT-S recipes (SERE's published ViT-S settings,
# which are iBOT's / DINO's multi-crop ones): 100 epochs, 8 x 128 images, 2 global views 224 px (scale 0.40..1) with
# iBOT block masks, 10 local views 96 px (scale 0.05..0.40), 8,192-prototype shared head, teacher temperature
# 0.04 -> 0.07 over 30 epochs, EMA 0.996 -> 1, AdamW lr 5e-4 per 256 images (iBOT's ViT-S rule: 2e-3 at 1,024)
# cosine to 1e-6 after 10 warm-up epochs, weight decay 0.04 -> 0.4 (cosine), gradient clip 0.3, last layer frozen
# for 1 epoch. Differences from the official code: MMEngine clips the global gradient norm (iBOT clips each
# parameter's); documented in docs/selfsup.md.
_base_ = ['./mmpretrain_runtime.py']
custom_imports = dict(imports=['imagenet_s.selfsup.ibot', 'imagenet_s.selfsup.sere', 'imagenet_s.selfsup.hssl'],
                      allow_failed_imports=False)

data_root = 'data/imagenet/'
global_size, local_size, patch_size = 224, 96, 16
global_scale, local_scale, num_local = (0.40, 1.0), (0.05, 0.40), 10
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                         to_rgb=True)
_flip_color = [dict(type='RandomFlip', prob=0.5),
               dict(type='RandomApply', prob=0.8, transforms=[
                   dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)]),
               dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989))]
_mask = dict(type='IBOTBlockMask', input_size=global_size // patch_size, pred_ratio=(0.0, 0.3),
             pred_ratio_var=(0.0, 0.2))
global1 = [dict(type='RandomResizedCropWithBox', scale=global_size, crop_ratio_range=global_scale, backend='pillow',
                interpolation='bicubic'), *_flip_color,
           dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=1.0), _mask]
global2 = [dict(type='RandomResizedCropWithBox', scale=global_size, crop_ratio_range=global_scale, backend='pillow',
                interpolation='bicubic'), *_flip_color,
           dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.1),
           dict(type='Solarize', thr=128, prob=0.2), _mask]
local = [dict(type='RandomResizedCropWithBox', scale=local_size, crop_ratio_range=local_scale, backend='pillow',
              interpolation='bicubic'), *_flip_color,
         dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5)]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiCropView', num_views=[1, 1, num_local], transforms=[global1, global2, local]),
    dict(type='PackInputs', algorithm_keys=['view_boxes', 'view_masks']),
]
train_dataloader = dict(
    batch_size=128, num_workers=10, persistent_workers=True, drop_last=True, pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True), collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, split='train', pipeline=train_pipeline))

model = dict(
    type='IBOT',
    data_preprocessor=data_preprocessor,
    backbone=dict(type='VisionTransformer', arch='deit-small', img_size=global_size, patch_size=patch_size,
                  drop_path_rate=0.1, out_type='cls_token'),
    head=dict(type='DINOProjectionHead', in_channels=384, out_channels=8192, hidden_channels=2048,
              bottleneck_channels=256, norm_last_layer=True),
    num_global_views=2, student_temperature=0.1, teacher_temperature=0.07, warmup_teacher_temperature=0.04,
    warmup_teacher_temperature_epochs=30, center_momentum=0.9, teacher_momentum=0.996,
    loss_weights=dict(cls=1.0, patch=1.0), freeze_last_layer_epochs=1)

max_epochs, warmup_epochs = 100, 10
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-4 * 1024 / 256, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=dict(max_norm=0.3),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
                       custom_keys={'pos_embed': dict(decay_mult=0.0), 'cls_token': dict(decay_mult=0.0),
                                    'mask_token': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    # 0.04 -> 0.4 on a cosine; a ratio keeps the groups without decay at 0
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.0, by_epoch=True,
         begin=0, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# DDP: the frozen last layer (first epochs) and unused local-view heads get no gradient in some steps
find_unused_parameters = True
auto_scale_lr = dict(base_batch_size=1024)  # --auto-scale-lr: lr scaled linearly to the effective batch
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
