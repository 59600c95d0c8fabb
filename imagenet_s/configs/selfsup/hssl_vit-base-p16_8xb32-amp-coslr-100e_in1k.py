# HSSL ViT-B/16 with a 3-block ConvNeXt auxiliary head, 100 epochs on iBOT (HSSL's published defaults): batch 256
# (8 x 32), AdamW lr 7.5e-4 (iBOT's per-256 rule at 256) cosine to 2e-6 after 10 warm-up epochs, weight decay
# 0.04 -> 0.4, teacher temperature 0.04 -> 0.07 over 50 epochs, 8,192-dim heads, global views 0.14..1, no local
# views, block masks 0..0.3, clip 0.3, fp16. The auxiliary head is training-only (export keeps the ViT).
_base_ = ['./_base_/ibot_vit-small-p16_multicrop_in1k.py']
_flip_color = [dict(type='RandomFlip', prob=0.5),
               dict(type='RandomApply', prob=0.8, transforms=[
                   dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)]),
               dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989))]
_mask = dict(type='IBOTBlockMask', input_size=14, pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2))
_global_crop = dict(type='RandomResizedCropWithBox', scale=224, crop_ratio_range=(0.14, 1.0), backend='pillow',
                    interpolation='bicubic')
global1 = [_global_crop, *_flip_color,
           dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=1.0), _mask]
global2 = [_global_crop, *_flip_color,
           dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.1),
           dict(type='Solarize', thr=128, prob=0.2), _mask]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiCropView', num_views=[1, 1], transforms=[global1, global2]),
    dict(type='PackInputs', algorithm_keys=['view_boxes', 'view_masks']),
]
train_dataloader = dict(batch_size=32, dataset=dict(pipeline=train_pipeline))
model = dict(type='HSSL', aux_head=dict(kind='convnext', depth=3),
             backbone=dict(arch='base'), head=dict(in_channels=768),
             warmup_teacher_temperature_epochs=50, loss_weights=dict(cls=1.0, patch=1.0))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic', optimizer=dict(lr=7.5e-4 * 256 / 256))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=90, eta_min=2e-6, by_epoch=True, begin=10, end=100,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay', eta_min_ratio=10.0, by_epoch=True,
         begin=0, end=100, convert_to_iter_based=True),
]
auto_scale_lr = dict(base_batch_size=256)
published = dict(source='HSSL: ImageNet-1k fine-tuning of ViT-B/16 (iBOT + HSSL), 100 and 150 epochs',
                 imagenet_finetune_top1=83.8, imagenet_finetune_top1_150e=84.1)
