"""Slice detections back to whole images: shift by the window origin, then class-wise NMS across windows.

Upstream scores slice models only per slice; merged detections can be scored on the full images with
``aodraw evaluate`` against the original annotation file.
"""
from __future__ import annotations

import warnings

import numpy as np

from evaluators.detection.ids import exact_id, id_array, is_id
from evaluators.detection.validate import load_detections, load_ground_truth
from plumbing.errors import BadInputError, InputWarning
from plumbing.jsonio import read_json


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> np.ndarray:
    """Greedy NMS on x y w h boxes: indices kept, best score first; a box overlapping a kept one with
    IoU > ``iou_thr`` is dropped."""
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = x1 + boxes[:, 2], y1 + boxes[:, 3]
    areas = boxes[:, 2] * boxes[:, 3]
    order = np.argsort(-scores, kind="stable")
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.clip(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0, None)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_thr]
    return np.array(keep, np.int64)


def classwise_nms(boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, iou_thr: float) -> np.ndarray:
    """Indices kept by ``nms`` run within each label: labels in ascending order, each best score first."""
    groups = [np.flatnonzero(labels == label) for label in np.unique(labels)]
    keep = [group[nms(boxes[group], scores[group], iou_thr)] for group in groups]
    return np.concatenate(keep) if keep else np.zeros(0, np.int64)


def merge_slices(slice_gt, slice_dt, nms_iou: float = 0.6) -> list[dict]:
    """Detections on slices (COCO results on the slice annotation file) as detections on the original images."""
    raw, source = read_json(slice_gt, "slice annotation")
    if not isinstance(raw, dict) or not isinstance(raw.get("images"), list):
        raise BadInputError(f"{source}: a slice annotation file needs an 'images' list")
    with warnings.catch_warnings():  # only the images matter here: the boxes' warnings are not this command's
        warnings.simplefilter("ignore", InputWarning)
        gt = load_ground_truth(raw, source)  # validated whole: official slice files hold zero-size boxes
    dt = load_detections(slice_dt, gt)
    origin = {}
    for i, image in enumerate(raw["images"]):
        try:
            ori, dx, dy = image["ori_id"], float(image["x_start"]), float(image["y_start"])
        except (KeyError, TypeError, ValueError):
            ori = None
        if not is_id(ori, floats_ok=True):
            raise BadInputError(f"{source}: image {i}: a slice entry needs ori_id (an id), x_start and y_start")
        origin[image["id"]] = (exact_id(ori), dx, dy)
    placed = [origin[i] for i in dt.image_ids.tolist()]
    boxes = dt.boxes + np.array([(0.0, 0.0, 0.0, 0.0)] + [(dx, dy, 0, 0) for _, dx, dy in placed])[1:]
    try:
        image_ids, image_of = np.unique(id_array([ori for ori, _, _ in placed])[0], return_inverse=True)
    except TypeError:
        raise BadInputError(f"{source}: the slices' ori_id values mix integers and strings") from None
    out = []
    for g, image_id in enumerate(image_ids.tolist()):
        in_image = np.flatnonzero(image_of == g)
        for k in in_image[classwise_nms(boxes[in_image], dt.scores[in_image], dt.cat_ids[in_image], nms_iou)]:
            out.append({"image_id": image_id, "category_id": dt.cat_ids[k:k + 1].tolist()[0],
                        "bbox": [float(v) for v in boxes[k]], "score": float(dt.scores[k])})
    return out
