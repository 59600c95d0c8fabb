"""Annotation variants and checks: annotations for the 1/3 downsampled images, and dataset statistics.

The official ``*_downsample_scale3_bbox_min_size32.json`` files have no published generating code. Our rule: every
box is divided by ``scale`` (positions and sides, unrounded; ``area`` = scaled w * h; image sizes are integer
divisions, as the downsampled files); a non-crowd box whose scaled width or height is below ``min_size`` is kept
as an ignored crowd box (``small="ignore"``, a detector is neither rewarded nor penalised for it) or removed
(``small="drop"``). ``min_size=0`` keeps every box as it is.
"""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from evaluators.detection.conditions import combination_name
from evaluators.detection.validate import load_ground_truth, read_ground_truth
from plumbing.errors import BadInputError

SMALL_RULES = ("ignore", "drop")
# COCO's size ranges on box area, both in the original and in any scaled frame.
AREA_RANGES = (("small", 0, 32 ** 2), ("medium", 32 ** 2, 96 ** 2), ("large", 96 ** 2, float("inf")))


def downsample_annotations(src, scale: int = 3, min_size: float = 32, small: str = "ignore") -> dict:
    """The COCO annotation file (path or dict) for images downsampled by ``scale``; see the module rule."""
    if small not in SMALL_RULES or scale < 1 or min_size < 0:
        raise BadInputError(f"annotations downsample: bad rule scale={scale} min_size={min_size} small={small!r}")
    gt, _ = read_ground_truth(src)  # validated: ids, boxes and categories, with messages naming the culprit
    images = [{**im, "width": im["width"] // scale, "height": im["height"] // scale} for im in gt["images"]]
    annotations = []
    for ann in gt.get("annotations", []):
        x, y, w, h = (float(v) / scale for v in ann["bbox"])
        out = {**ann, "bbox": [x, y, w, h], "area": w * h}
        if not ann.get("iscrowd") and min(w, h) < min_size:
            if small == "drop":
                continue
            out.update(iscrowd=1, ignore=1)
        annotations.append(out)
    return {**gt, "images": images, "annotations": annotations}


def annotation_stats(src) -> dict[str, list[list]]:
    """Tables {"condition" | "category" | "size": rows of [name, images, boxes, crowd boxes]}.

    Conditions are the images' tag lists joined with '+' (``untagged`` without tags); categories are named as in
    evaluation results (name, or name plus id where names are shared); sizes use COCO's area ranges on ``area``."""
    gt = load_ground_truth(src)
    tag_of = {i: combination_name(t) if t else "untagged" for i, t in zip(gt.image_ids.tolist(), gt.image_tags)}
    key_of = dict(zip(gt.cat_ids.tolist(), gt.cat_keys))
    size_of = np.select([gt.ann_areas < hi for _, _, hi in AREA_RANGES], [n for n, _, _ in AREA_RANGES], "large")
    keys = {"condition": [tag_of[i] for i in gt.ann_image_ids.tolist()],
            "category": [key_of[c] for c in gt.ann_cat_ids.tolist()], "size": size_of.tolist()}
    tables = {}
    for table, ann_keys in keys.items():
        images, boxes, crowd = defaultdict(set), Counter(), Counter()
        for key, image_id, is_crowd in zip(ann_keys, gt.ann_image_ids.tolist(), gt.ann_crowd.tolist()):
            images[key].add(image_id)
            (crowd if is_crowd else boxes)[key] += 1
        if table == "condition":  # images without boxes count too
            for image_id, tag in tag_of.items():
                images[tag].add(image_id)
        order = [n for n, _, _ in AREA_RANGES] if table == "size" else sorted(images)
        tables[table] = [[k, len(images[k]), boxes[k], crowd[k]] for k in order]
    tables["condition"].append(["all", len(gt.image_ids), int((~gt.ann_crowd).sum()), int(gt.ann_crowd.sum())])
    return tables
