# Cascade R-CNN ResNet-50, rfnext-fixed, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): none.
_base_ = './cascade-rcnn_r50-rfnext-search_fpn_1x_aodraw-srgb.py'

# Fixed single-branch RF-Next: retrain with the dilations found by the search recipe (its last structure file).
custom_hooks = [
    dict(
        type='RFSearchHook',
        mode='fixed_single_branch',
        rfstructure_file='work_dirs/cascade-rcnn_r50-rfnext-search_fpn_1x_aodraw-srgb/local_search_config_step10.json',
        verbose=True,
        config={{_base_.rfsearch_cfg.config}})
]
