# pass_tiny's finetune stage (the tests' generated tree of 3 classes, on a CPU): 48 px crops, batch 4, one epoch.
_base_ = ['./finetune_r18_luss50.py']
subset = 3
model = dict(data_preprocessor=dict(size=(48, 48)), decode_head=dict(num_classes=subset + 1))
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(subset=subset, pipeline=[
        dict(type='LoadImageFromFile'), dict(type='LoadImageNetSAnnotations'),
        dict(type='RandomResizedCropWithMask', size=48, scale=(0.5, 1.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'), dict(type='PackSegInputs')]))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(subset=subset, pipeline=[
    dict(type='LoadImageNetSImage'), dict(type='ResizeShorterSide', size=64), dict(type='LoadImageNetSAnnotations'),
    dict(type='PackSegInputs')]))
effective_batch_size = 4
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=1, eta_min=0.0006, by_epoch=True, begin=0, end=1,
                        convert_to_iter_based=True)]
train_cfg = dict(max_epochs=1)
default_hooks = dict(logger=dict(interval=1), visualization=dict(draw=False))
env_cfg = dict(mp_cfg=dict(mp_start_method='fork', opencv_num_threads=1))
randomness = dict(seed=0)
