# The protocol's schedule: AdamW, lr = base_lr * effective_batch / 256 with an effective batch of 256 (gradient
# accumulation fills the gap when fewer GPUs run: imagenet_s.mmseg.launch sets optim_wrapper.accumulative_counts from
# effective_batch_size, the per-GPU batch and the world size), layer-wise lr decay (BEiT style), 100 epochs with 5
# warm-up epochs then a half-cycle cosine to 1e-6, stepped per iteration. AMP: tools/train.py --amp.
effective_batch_size = 256
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='mmpretrain.LearningRateDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, norm_decay_mult=0.0, bias_decay_mult=0.0,
                       custom_keys={'.cls_token': dict(decay_mult=0.0), '.pos_embed': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=5, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=95, eta_min=1e-6, by_epoch=True, begin=5, end=100,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
auto_scale_lr = dict(enable=False, base_batch_size=256)
