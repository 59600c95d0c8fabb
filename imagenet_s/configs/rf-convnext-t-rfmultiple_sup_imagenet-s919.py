# RF-ConvNeXt-T (rfmultiple), supervised + RF-Next rfmultiple (Sup): semi-supervised fine-tuning on ImageNet-S 919 train-semi.
# Published (ImageNet-S 919, val / test mIoU): 50.8 / 50.5.
# Backbone weights: model.backbone_checkpoint (override with --cfg-options model.backbone_checkpoint=PATH).
_base_ = ['./convnext-t_sup_imagenet-s919.py']
# RF-Next rfmultiple: the dilations searched by RF-Next, read from rfstructure_file (the RF-Next
# release's structure for RF-ConvNeXt-T); RFNextRunner applies them as the model is built.
runner_type = 'RFNextRunner'
rfsearch_cfg = dict(
    mode='fixed_multi_branch',
    rfstructure_file='data/rfnext/rf-convnext-t_rfmultiple.json',
    config=dict(search=dict(step=0, max_step=11, search_interval=1, exp_rate=0.5, init_alphas=0.01,
                            mmin=1, mmax=24, num_branches=2, skip_layer=['decode_head'])))
custom_hooks = [dict(type='RFSearchHook', verbose=True, **rfsearch_cfg)]
# The protocol's second parameter group: the searched rates (RF-Next's branch weights) at 10x the lr with their own
# layer-wise decay (0.9; the spec allows 1.0: --cfg-options optim_wrapper.paramwise_cfg.rf_layer_decay_rate=1.0).
optim_wrapper = dict(constructor='RFLayerDecayOptimWrapperConstructor',
                     paramwise_cfg=dict(rf_keys=('branch_weights', ), rf_lr_mult=10.0, rf_layer_decay_rate=0.9))
