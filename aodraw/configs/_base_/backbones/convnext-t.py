# ConvNeXt-T (MMPretrain's ConvNeXt and its ImageNet-1k weights) in place of a recipe's ResNet-50, with its AdamW
# settings (lr 2e-4, layer-wise lr decay 0.75). A recipe using it imports 'mmpretrain.models' (custom_imports).
convnext_t_backbone = dict(
    _delete_=True,
    type='mmpretrain.ConvNeXt',
    arch='tiny',
    out_indices=[0, 1, 2, 3],
    drop_path_rate=0.4,
    layer_scale_init_value=1.0,
    gap_before_final_norm=False,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://download.openmmlab.com/mmclassification/v0/convnext/downstream/convnext-tiny_3rdparty_32xb128-noema_in1k_20220301-795e9634.pth',
        prefix='backbone.'))
convnext_t_channels = [96, 192, 384, 768]
convnext_t_optim_wrapper = dict(
    constructor='LearningRateDecayOptimizerConstructor',
    optimizer=dict(lr=0.0002),
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=6))
