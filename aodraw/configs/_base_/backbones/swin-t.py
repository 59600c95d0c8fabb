# Swin-T (MMDetection's SwinTransformer, ImageNet-1k weights of the Swin release) in place of a recipe's ResNet-50,
# with its AdamW settings (lr 1e-4, no weight decay on norms, position embeddings and the bias table).
swin_t_backbone = dict(
    _delete_=True,
    type='SwinTransformer',
    embed_dims=96,
    depths=[2, 2, 6, 2],
    num_heads=[3, 6, 12, 24],
    window_size=7,
    mlp_ratio=4,
    qkv_bias=True,
    qk_scale=None,
    drop_rate=0.,
    attn_drop_rate=0.,
    drop_path_rate=0.2,
    patch_norm=True,
    out_indices=(0, 1, 2, 3),
    with_cp=False,
    convert_weights=True,
    init_cfg=dict(
        type='Pretrained',
        checkpoint='https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_tiny_patch4_window7_224.pth'))
swin_t_channels = [96, 192, 384, 768]
swin_t_optim_wrapper = dict(
    optimizer=dict(lr=0.0001),
    paramwise_cfg=dict(custom_keys=dict(
        absolute_pos_embed=dict(decay_mult=0.), relative_position_bias_table=dict(decay_mult=0.),
        norm=dict(decay_mult=0.))))
