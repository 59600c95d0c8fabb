# Cascade R-CNN ResNet-50, rfnext-search, 1x schedule, 1/3 downsampled images.
# Input: sRGB (ImageNet-pretrained backbone).
# Published AP (AODRaw paper, test set): none.
_base_ = './cascade-rcnn_r50_fpn_1x_aodraw-srgb.py'

# RF-Next: search the dilation rates of the 3x3 convolutions (mmcv's RFSearchHook). AODRawRunner wraps the
# model before the optimizer is built; the searched structure is written to the work dir as
# local_search_config_step*.json, and loads without DDP too (see aodraw/mmdet/rfnext.py).
runner_type = 'AODRawRunner'
rfsearch_cfg = dict(
    mode='search',
    rfstructure_file=None,
    config=dict(
        search=dict(
            step=0,
            max_step=11,
            search_interval=1,
            exp_rate=0.5,
            init_alphas=0.01,
            mmin=1,
            mmax=24,
            num_branches=2,
            skip_layer=[])),
)
custom_hooks = [dict(type='RFSearchHook', verbose=True, **rfsearch_cfg)]
