# RTMDet-tiny (MMDetection 3.3: CSPNeXt-tiny, ImageNet-pretrained), real-time track, 640 px, 1/3 downsampled images.
# Input: sRGB. Schedule: MMDetection's RTMDet 300 epochs (AdamW lr 0.004 for a total batch of 256, EMA); the
# stage-2 pipeline switch is dropped with Mosaic/MixUp (see _base_/datasets/aodraw_realtime.py).
# Published AP (AODRaw paper, test set): none (not in the paper).
_base_ = ['mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', './_base_/datasets/aodraw_realtime.py']

model = dict(bbox_head=dict(num_classes={{_base_.rt_num_classes}}))

train_dataloader = dict(
    _delete_=True,
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='AODRawDataset',
        data_root={{_base_.rt_data_root}},
        ann_file={{_base_.rt_train_ann}},
        data_prefix=dict(img={{_base_.rt_srgb_folder}}),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline={{_base_.rt_srgb_train}}))
val_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='AODRawDataset',
        data_root={{_base_.rt_data_root}},
        ann_file={{_base_.rt_test_ann}},
        data_prefix=dict(img={{_base_.rt_srgb_folder}}),
        test_mode=True,
        pipeline={{_base_.rt_srgb_test}}))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='AODRawMetric', ann_file={{_base_.rt_evaluator.ann_file}}, preset='aodraw')
test_evaluator = val_evaluator
train_cfg = dict(dynamic_intervals=None)
custom_hooks = [dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True, priority=49)]
