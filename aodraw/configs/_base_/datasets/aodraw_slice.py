# The 1280 px slices (images_slice_raw, packed Bayer 4 x 640 x 640) with their annotation files, seen once per
# epoch, scored per slice with the aodraw-slice preset (areas 64^2 / 160^2), as upstream.
slice_train_ann = 'annotations/train_annotations_slice_1280_300.json'
slice_test_ann = 'annotations/test_annotations_slice_1280_300.json'
slice_train_dataloader = dict(dataset=dict(
    times=1, dataset=dict(ann_file=slice_train_ann, data_prefix=dict(img='images_slice_raw/'))))
slice_test_dataloader = dict(dataset=dict(ann_file=slice_test_ann, data_prefix=dict(img='images_slice_raw/')))
slice_evaluator = dict(ann_file='data/AODRaw/' + slice_test_ann, preset='aodraw-slice')
