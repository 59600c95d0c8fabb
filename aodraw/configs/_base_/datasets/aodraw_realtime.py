# Real-time track (not in the paper; announced upstream, never delivered): AODRaw's 1/3 downsampled images at 640 px.
# Three inputs, one geometry: sRGB JPGs (images_downsampled_srgb), downsampled RAW arrays (images_downsampled_raw,
# rendered as upstream's RAW loader: gamma 1/2.2, BGR) and packed Bayer planes (`aodraw convert bayer --downsample 3`
# into images_bayer_downsampled/: uint16 4 x H/6 x W/6, black/white levels from the sidecars, gamma 1/2.2, upsampled
# 2x to the annotation frame; the model's stem takes the 4 planes).
# Train: random resize of the 640 x 640 scale by 0.5..1.5, random 640 x 640 crop, flip 0.5, pad to 640 x 640. No
# Mosaic/MixUp: MMDetection 3.3 implements them for 3-channel uint8 images only, and one pipeline for every input
# keeps the comparison fair. Test: resize to fit 640 x 640, pad. Variables are prefixed rt_ so this file can sit
# beside MMDetection's own configs as a base.
custom_imports = dict(imports=['aodraw.mmdet'], allow_failed_imports=False)

rt_data_root = 'data/AODRaw/'
rt_train_ann = 'annotations/train_annotations_downsample_scale3_bbox_min_size32.json'
rt_test_ann = 'annotations/test_annotations_downsample_scale3_bbox_min_size32.json'
rt_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction', 'tag')
rt_srgb_folder, rt_raw_folder = 'images_downsampled_srgb/', 'images_downsampled_raw/'
rt_bayer_folder = 'images_bayer_downsampled/'
rt_num_classes = 61  # AODRaw's 62 categories less the ignore regions

rt_train_steps = [
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=(640, 640), ratio_range=(0.5, 1.5), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(640, 640)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=(640, 640), pad_val=dict(img=114)),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1, 1), keep_empty=False),
    dict(type='PackDetInputs', meta_keys=rt_meta_keys),
]
rt_test_steps = [
    dict(type='Resize', scale=(640, 640), keep_ratio=True),
    dict(type='Pad', size=(640, 640), pad_val=dict(img=114)),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=rt_meta_keys),
]
rt_srgb_load = dict(type='LoadImageFromFile')
rt_raw_load = dict(type='LoadAODRawImageFromFile', gamma=1 / 2.2)
rt_bayer_load = dict(type='LoadBayerPackFromFile', gamma=1 / 2.2, upsample=2)
rt_srgb_train = [rt_srgb_load] + rt_train_steps
rt_srgb_test = [rt_srgb_load] + rt_test_steps
rt_raw_train = [rt_raw_load] + rt_train_steps
rt_raw_test = [rt_raw_load] + rt_test_steps
rt_bayer_train = [rt_bayer_load] + rt_train_steps
rt_bayer_test = [rt_bayer_load] + rt_test_steps
rt_evaluator = dict(type='AODRawMetric', ann_file=rt_data_root + rt_test_ann, preset='aodraw')
