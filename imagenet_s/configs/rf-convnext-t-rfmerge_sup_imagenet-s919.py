# RF-ConvNeXt-T (rfmerge), supervised + RF-Next rfmerge (Sup): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 51.3 / 51.1.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./convnext-t_sup_imagenet-s919.py']
# RF-Next rfmerge: the dilations searched by RF-Next, read from rfstructure_file (the RF-Next
# release's structure for RF-ConvNeXt-T); RFNextRunner applies them as the model is built.
# rfmerge: the multi-branch structure merged into one branch; only the segmentation norm/head
# and the RF (depthwise) convolutions train, everything else of the backbone is frozen.
runner_type = 'RFNextRunner'
rfsearch_cfg = dict(
    mode='fixed_single_branch',
    rfstructure_file='data/rfnext/rf-convnext-t_rfmultiple.json',
    config=dict(search=dict(step=0, max_step=11, search_interval=1, exp_rate=0.5, init_alphas=0.01,
                            mmin=1, mmax=24, num_branches=2, skip_layer=['decode_head'])))
custom_hooks = [dict(type='RFSearchHook', verbose=True, **rfsearch_cfg)]
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2.5e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.0, decay_mult=0.0),
                                    'depthwise_conv': dict(lr_mult=1.0, decay_mult=1.0)}))
