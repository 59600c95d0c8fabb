"""Helpers of the MMDetection tests: a tiny AODRaw-style dataset on disk (downsampled RAW npy, packed Bayer
slices, sRGB JPGs, annotation files with condition tags and ignore regions) and tiny configs derived from the
shipped recipes."""
from __future__ import annotations

import json

import numpy as np

CLASSES = ["person", "car", "dog"]
COLOURS = [(250, 40, 40), (40, 250, 40), (40, 40, 250)]  # RGB of each class's boxes
TAGS = [["normal_light"], ["low_light"], ["fog"], ["low_light", "rain"]]
SIZE = (64, 96)  # downsampled image H, W


def _scene(rng, n_boxes: int, height: int, width: int):
    rgb = np.full((height, width, 3), 60, np.uint8) + rng.integers(0, 20, (height, width, 3)).astype(np.uint8)
    boxes = []
    for _ in range(n_boxes):
        cls = int(rng.integers(0, len(CLASSES)))
        w, h = int(rng.integers(14, 30)), int(rng.integers(14, 30))
        x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
        rgb[y:y + h, x:x + w] = COLOURS[cls]
        boxes.append((cls, [x, y, w, h]))
    return rgb, boxes


def write_dataset(root, n_images: int = 8, seed: int = 0) -> dict:
    """Write the folders of the official layout under ``root`` and return their paths."""
    import cv2

    from aodraw.raw import RAW_SCALE, mosaic_rggb, pack

    rng = np.random.default_rng(seed)
    folders = {k: root / k for k in ("images_downsampled_srgb", "images_downsampled_raw", "images_slice_raw",
                                     "annotations")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    categories = [{"id": i, "name": n} for i, n in enumerate(CLASSES)] + [{"id": 62, "name": "ignore"}]
    images, anns, slice_images, slice_anns = [], [], [], []
    for i in range(n_images):
        name = f"{i:08d}"
        rgb, boxes = _scene(rng, 3, *SIZE)
        cv2.imwrite(str(folders["images_downsampled_srgb"] / f"{name}.JPG"), rgb[..., ::-1])
        np.save(folders["images_downsampled_raw"] / f"{name}.npy", rgb.transpose(2, 0, 1).astype(np.float32))
        images.append({"id": i, "file_name": f"{name}.JPG", "height": SIZE[0], "width": SIZE[1],
                       "tag": TAGS[i % len(TAGS)]})
        for cls, box in boxes:
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": cls, "bbox": box,
                         "area": box[2] * box[3], "iscrowd": 0, "ignore": 0})
        if i % 2:  # an ignore region
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 62, "bbox": [0, 0, 8, 8],
                         "area": 64, "iscrowd": 1, "ignore": 1})
        # one 64 x 64 slice per image: a packed RGGB mosaic of raw values (float32 4 x 32 x 32)
        window = rgb[:, :64].astype(np.float32) * RAW_SCALE
        mosaic = mosaic_rggb(window)
        slice_name = f"{name}__64__0___0"
        np.save(folders["images_slice_raw"] / f"{slice_name}.npy", pack(np.rint(mosaic)).astype(np.float32))
        slice_images.append({"id": i, "file_name": f"{slice_name}.JPG", "height": 64, "width": 64,
                             "ori_id": i, "x_start": 0, "y_start": 0, "slice_id": slice_name,
                             "tag": TAGS[i % len(TAGS)]})
        for cls, (x, y, w, h) in boxes:
            if x + w <= 64:
                slice_anns.append({"id": len(slice_anns) + 1, "image_id": i, "category_id": cls,
                                   "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0, "ignore": 0})
    ann = {"images": images, "annotations": anns, "categories": categories}
    slices = {"images": slice_images, "annotations": slice_anns, "categories": categories}
    paths = {"root": root, "ann": folders["annotations"] / "annotations_downsample.json",
             "slice_ann": folders["annotations"] / "annotations_slice.json"}
    paths["ann"].write_text(json.dumps(ann))
    paths["slice_ann"].write_text(json.dumps(slices))
    return paths


def _pipelines(cfg):
    train = cfg.train_dataloader.dataset
    train = train.dataset if "dataset" in train else train
    return [train.pipeline, cfg.val_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline]


def _set_num_classes(node, n: int) -> None:
    if isinstance(node, dict):
        if "num_classes" in node:
            node["num_classes"] = n
        for value in node.values():
            _set_num_classes(value, n)
    elif isinstance(node, list):
        for value in node:
            _set_num_classes(value, n)


def tiny_config(tmp_path, recipe: str, data: dict, slices: bool = False, **overrides) -> str:
    """The shipped ``recipe`` shrunk to the tiny dataset (ResNet-18 with 16 base channels, ~96 px inputs), written
    as a config file."""
    from mmengine.config import Config

    from aodraw.recipes import find_recipe

    cfg = Config.fromfile(str(find_recipe(recipe).config))
    ann = str(data["slice_ann"] if slices else data["ann"])
    root = str(data["root"]) + "/"
    cfg.merge_from_dict({
        "model.backbone.depth": 18, "model.backbone.base_channels": 16, "model.backbone.init_cfg": None,
        "model.backbone.norm_eval": False, "model.backbone.frozen_stages": -1,  # trained from scratch
        "model.neck.in_channels": [16, 32, 64, 128],
        "train_dataloader.batch_size": 2, "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False, "val_dataloader.num_workers": 0,
        "val_dataloader.persistent_workers": False, "val_dataloader.batch_size": 2,
        "train_cfg.max_epochs": 2, "train_cfg.val_interval": 2,
        "default_hooks.logger.interval": 1, "val_evaluator.ann_file": ann, "test_evaluator.ann_file": ann,
        **overrides})
    train = cfg.train_dataloader.dataset
    if "times" in train:
        train.times = 1
        train = train.dataset
    train.update(data_root=root, ann_file=ann, filter_cfg=dict(filter_empty_gt=True, min_size=0))
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.update(data_root=root, ann_file=ann)
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
    cfg.param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False, begin=0, end=1)]
    _set_num_classes(cfg.model, len(CLASSES))
    for pipeline in _pipelines(cfg):
        for step in pipeline:
            if step.type == "RandomResize":
                step.scale = [(96, 56), (96, 64)]
            elif step.type == "Resize":
                step.scale = (96, 64)
    path = tmp_path / f"tiny_{recipe}.py"
    cfg.dump(str(path))
    return str(path)


def write_bayer_packs(data: dict) -> str:
    """Bayer packs of the tiny dataset's images written the way users make them: each downsampled sRGB image
    upscaled 3x, mosaicked into a 14-bit RGGB DNG (black 512) beside its JPG, then ``aodraw convert bayer
    --downsample 3`` into ``images_bayer_downsampled/`` (uint16 4 x 32 x 48 + sidecars). Returns that folder."""
    import cv2

    from aodraw.convert.bayer import convert_bayer
    from aodraw.synthetic_raw import mosaic_of, write_dng, write_jpg

    root = data["root"]
    camera, target = root / "images_bayer_camera", root / "images_bayer_downsampled"
    camera.mkdir(exist_ok=True)
    for jpg in sorted((root / "images_downsampled_srgb").glob("*.JPG")):
        rgb = cv2.imread(str(jpg))[..., ::-1]
        big = cv2.resize(rgb, (rgb.shape[1] * 3, rgb.shape[0] * 3), interpolation=cv2.INTER_NEAREST)
        write_dng(camera / f"{jpg.stem}.ARW", mosaic_of(big.astype(np.float32) / 255))
        write_jpg(camera / f"{jpg.stem}.JPG", big)
    summary = convert_bayer(camera, target, downsample=3, workers=1)
    assert not summary.failed, summary.failed
    return str(target)


def tiny_realtime_config(tmp_path, recipe: str, data: dict, **overrides) -> str:
    """The shipped real-time ``recipe`` shrunk to the tiny dataset (backbone width 0.125, 96 px instead of 640,
    plain BN, a constant learning rate), written as a config file."""
    from mmengine.config import Config

    from aodraw.recipes import find_recipe

    cfg = Config.fromfile(str(find_recipe(recipe).config))
    ann, root = str(data["ann"]), str(data["root"]) + "/"
    bn = dict(type="BN")
    cfg.merge_from_dict({
        "model.backbone.widen_factor": 0.125, "model.backbone.init_cfg": None, "model.backbone.norm_cfg": bn,
        "model.neck.in_channels": [32, 64, 128], "model.neck.out_channels": 32, "model.neck.norm_cfg": bn,
        "model.bbox_head.in_channels": 32, "model.bbox_head.feat_channels": 32, "model.bbox_head.norm_cfg": bn,
        "model.bbox_head.num_classes": len(CLASSES),
        "train_dataloader.batch_size": 2, "train_dataloader.num_workers": 0,
        "train_dataloader.persistent_workers": False, "train_dataloader.pin_memory": False,
        "train_cfg.max_epochs": 1, "train_cfg.val_interval": 1, "default_hooks.logger.interval": 1,
        "val_evaluator.ann_file": ann, "test_evaluator.ann_file": ann, **overrides})
    cfg.train_dataloader.dataset.update(data_root=root, ann_file=ann, filter_cfg=dict(filter_empty_gt=True,
                                                                                      min_size=0))
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        loader.dataset.update(data_root=root, ann_file=ann)
        loader.update(num_workers=0, persistent_workers=False, batch_size=2)
    cfg.param_scheduler = [dict(type="ConstantLR", factor=1.0, by_epoch=False, begin=0, end=1)]
    for pipeline in (cfg.train_dataloader.dataset.pipeline, cfg.test_dataloader.dataset.pipeline,
                     cfg.val_dataloader.dataset.pipeline):
        for step in pipeline:
            if step.type in ("RandomResize", "Resize"):
                step.scale = (96, 96)
            elif step.type == "RandomCrop":
                step.crop_size = (96, 96)
            elif step.type == "Pad":
                step.size = (96, 96)
    path = tmp_path / f"tiny_{recipe}.py"
    cfg.dump(str(path))
    return str(path)
