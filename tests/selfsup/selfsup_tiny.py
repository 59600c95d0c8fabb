"""Tiny model configs shared by the iBOT/SERE/HSSL tests (a 2-layer ViT of width 32 on 32 px views, patch 8)."""
TINY_VIT = dict(type="VisionTransformer", arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                                                    feedforward_channels=64), img_size=32, patch_size=8)
TINY_HEAD = dict(type="DINOProjectionHead", in_channels=32, out_channels=64, hidden_channels=64,
                 bottleneck_channels=16)

RECIPES = {"ibot": "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py",
           "sere": "sere_vit-small-p16_8xb128-coslr-100e_in1k.py",
           "hssl": "hssl_vit-base-p16_8xb32-amp-coslr-100e_in1k.py"}


def tiny_recipe(method: str, image_root, work_dir, max_epochs: int = 2):
    """A shipped recipe shrunk to the tiny ViT on 32 px global / 16 px local views of ``image_root`` (batch 4, 2 local
    views where the recipe has local views), keeping its algorithm, losses, optimiser settings and schedulers."""
    from pathlib import Path

    from mmengine.config import Config

    import imagenet_s

    recipe = Path(imagenet_s.__file__).parent / "configs" / "selfsup" / RECIPES[method]
    cfg = Config.fromfile(str(recipe))
    views = cfg.train_pipeline[1]
    crop = dict(type="RandomResizedCropWithBox", backend="pillow")
    mask = dict(type="IBOTBlockMask", input_size=4)
    pipelines = [[dict(crop, scale=32, crop_ratio_range=(0.4, 1.0)), dict(type="RandomFlip", prob=0.5), mask]] * 2
    num_views = [1, 1]
    if len(views.num_views) > 2:
        pipelines.append([dict(crop, scale=16, crop_ratio_range=(0.1, 0.4)), dict(type="RandomFlip", prob=0.5)])
        num_views.append(2)
    pipeline = [dict(type="LoadImageFromFile"), dict(type="MultiCropView", num_views=num_views, transforms=pipelines),
                dict(type="PackInputs", algorithm_keys=["view_boxes", "view_masks"])]
    cfg.merge_from_dict(dict(
        train_dataloader=dict(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False,
                              dataset=dict(type="CustomDataset", data_root=str(image_root), pipeline=pipeline,
                                           _delete_=True)),
        model=dict(backbone=dict(arch=dict(TINY_VIT["arch"], _delete_=True), img_size=32, patch_size=8,
                                 drop_path_rate=0.1),
                   head=dict(in_channels=32, out_channels=64, hidden_channels=64, bottleneck_channels=16),
                   freeze_last_layer_epochs=1),
        optim_wrapper=dict(type="OptimWrapper", _delete_=True, clip_grad=cfg.optim_wrapper.clip_grad,
                           paramwise_cfg=cfg.optim_wrapper.paramwise_cfg,
                           optimizer=dict(type="AdamW", lr=2e-3, weight_decay=0.04)),
        train_cfg=dict(max_epochs=max_epochs),
        default_hooks=dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=5)),
        work_dir=str(work_dir), randomness=dict(seed=0)))
    if method == "sere":
        cfg.model.spatial_grid = (3, 2)
    if method == "hssl":
        cfg.model.aux_head = dict(kind="convnext", depth=1)
    cfg.env_cfg.dist_cfg = dict(backend="gloo")
    cfg.visualizer.vis_backends = []
    return cfg
