# PASS step 6 on ImageNet-S-50 (LUSSeg/PASS main_pixel_finetuning.py, scripts/luss50_pass.sh): the pretrained
# ResNet-18 with a 1x1-conv head to 51 classes trained on the train pseudo labels, as an MMSegmentation config of the
# ImageNet-S plug-in. `imagenet-s pass finetune` fills in data_root, the pseudo-label folder
# (train_dataloader.dataset.data_prefix.seg_map_path) and model.backbone_checkpoint (WORK/pretrain.pth, loaded
# strictly through imagenet_s/mmseg/checkpoints.py, the PASS heads left out); `imagenet-s pass infer` predicts with
# the test pipeline and applies the sweep's match.json.
# Upstream: 20 epochs, 8 GPUs x 32, SGD momentum 0.9 under LARC (trust 0.001, no clipping) with base lr 0.6 cosine
# to 0.0006 per iteration, no warm-up, weight decay 1e-6, fp16, SyncBN; RandomResizedCrop 224 (scale 0.08..1) and a
# horizontal flip; logits at stride 32 bilinearly upsampled to half the crop, labels resized (nearest) to it.
_base_ = ['../_base_/models/r50-d32.py', '../_base_/datasets/imagenet_s.py', '../_base_/default_runtime.py']
subset = 50
model = dict(
    backbone_checkpoint=None, checkpoint_layout='torchvision',
    backbone=dict(depth=18),
    decode_head=dict(in_channels=512, num_classes=subset + 1, loss_upsample=16))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadImageNetSAnnotations'),
    dict(type='RandomResizedCropWithMask', size=224, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=32,
    dataset=dict(subset=subset, split='train', data_prefix=dict(img_path='train', seg_map_path=None),
                 pipeline=train_pipeline))
# pseudo labels are cluster ids: validating them against the ground truth needs the match, so no validation loop
val_dataloader = None
val_evaluator = None
val_cfg = None
test_dataloader = dict(dataset=dict(subset=subset))
# 8 GPUs x 32: fewer processes accumulate gradients up to the same total batch (imagenet_s.mmseg.launch)
effective_batch_size = 256
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='mmpretrain.LARS', lr=0.6, momentum=0.9, weight_decay=1e-6, eta=0.001))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=20, eta_min=0.0006, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20)
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2,
                                     save_best=None))
