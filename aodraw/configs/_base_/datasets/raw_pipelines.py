# Pipelines of the RAW recipes: stored RAW arrays (downsampled 3 x H x W npy, or packed Bayer slices) rendered as
# upstream's loader does (gamma 1/2.2 on the [0, 255] scale, BGR; slices demosaiced back, not rescaled: the
# upstream quirk, fixed with normalise_slices=True). Same geometry as the sRGB pipelines.
raw_meta_keys = ('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip', 'flip_direction', 'tag')
raw_train_pipeline = [
    dict(type='LoadAODRawImageFromFile', gamma=1 / 2.2, normalise_slices=False),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(2048, 800), (2048, 1024)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs', meta_keys=raw_meta_keys),
]
raw_test_pipeline = [
    dict(type='LoadAODRawImageFromFile', gamma=1 / 2.2, normalise_slices=False),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs', meta_keys=raw_meta_keys),
]
