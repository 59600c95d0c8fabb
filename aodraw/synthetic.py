"""Seeded synthetic detection data: an AODRaw-style test set and the detections of a plausible detector.

Used by ``aodraw demo``, the tests and the benchmarks. Boxes have log-uniform sizes; the detector
finds each object with a probability that drops in hard conditions (low light, fog, rain), jitters
its boxes, sometimes confuses classes or duplicates, and adds low-scoring background detections.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aodraw.categories import CLASSES, CONDITIONS, IGNORE_ID, IGNORE_NAME

# How much harder each condition makes detection (multiplies the recall, shifts scores down).
DIFFICULTY = {"normal_light": 1.0, "indoor": 0.95, "rain": 0.85, "low_light": 0.75, "fog": 0.7}


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of ``make_dataset``: image count and size (pixels), Poisson mean of boxes per image,
    detections kept per image, box side range (pixels, log-uniform), classes, condition tags, shares of images with
    ignore regions and of crowd boxes, first annotation id and the seed."""
    num_images: int = 400
    width: int = 2000
    height: int = 1333
    boxes_per_image: float = 10.0  # Poisson mean
    dets_per_image: int = 60  # the detector keeps its top-scoring ones up to this many
    min_size: float = 8.0
    max_size: float = 600.0
    num_classes: int = len(CLASSES)  # > len(CLASSES) uses generic names
    tags: bool = True
    ignore_regions: float = 0.25  # share of images with ignore regions (AODRaw style), 0 for none
    crowd: float = 0.0  # share of regular boxes marked iscrowd (COCO style)
    first_id: int = 0  # annotation ids start here (AODRaw: 0, COCO: 1)
    seed: int = 0


def make_dataset(spec: SyntheticSpec = SyntheticSpec()) -> tuple[dict, list]:
    """Return (COCO ground truth with per-image ``tag`` lists, COCO results list)."""
    rng = np.random.default_rng(spec.seed)
    names = CLASSES if spec.num_classes <= len(CLASSES) else [f"class_{i}" for i in range(spec.num_classes)]
    categories = [{"id": i, "name": n} for i, n in enumerate(names[: spec.num_classes])]
    if spec.ignore_regions:
        categories.append({"id": IGNORE_ID, "name": IGNORE_NAME})
    class_weights = 1.0 / np.arange(1, spec.num_classes + 1) ** 0.8  # a long tail, like real data
    class_weights /= class_weights.sum()
    images, annotations, detections = [], [], []
    for image_id in range(spec.num_images):
        image = {"id": image_id, "file_name": f"{image_id:08d}.JPG", "width": spec.width, "height": spec.height}
        difficulty = 1.0
        if spec.tags:
            tags = list(CONDITIONS[rng.choice(len(CONDITIONS), p=_condition_weights())])
            image["tag"] = tags
            difficulty = float(np.prod([DIFFICULTY[t] for t in tags]))
        images.append(image)
        boxes = _boxes(rng, rng.poisson(spec.boxes_per_image), spec)
        classes = rng.choice(spec.num_classes, len(boxes), p=class_weights)
        crowd = rng.random(len(boxes)) < spec.crowd
        for box, cls, is_crowd in zip(boxes, classes, crowd):
            _annotate(annotations, spec.first_id, image_id, int(cls), box, int(is_crowd))
        if spec.ignore_regions and rng.random() < spec.ignore_regions:
            for box in _boxes(rng, int(rng.integers(1, 4)), spec, min_size=60.0):
                _annotate(annotations, spec.first_id, image_id, IGNORE_ID, box, 1)
        detections += _detect(rng, image_id, boxes, classes, difficulty, spec)
    return {"images": images, "annotations": annotations, "categories": categories}, detections


def _condition_weights() -> np.ndarray:
    w = np.array([0.2, 0.2, 0.15, 0.1, 0.1, 0.1, 0.08, 0.07])
    return w / w.sum()


def _boxes(rng, n: int, spec: SyntheticSpec, min_size: float | None = None) -> np.ndarray:
    size = np.exp(rng.uniform(np.log(min_size or spec.min_size), np.log(spec.max_size), (n, 2)))
    size = np.minimum(size, [spec.width - 1, spec.height - 1])
    xy = rng.uniform(0, 1, (n, 2)) * ([spec.width, spec.height] - size)
    return np.hstack([xy, size])


def _annotate(annotations: list, first_id: int, image_id: int, category_id: int, box, crowd: int) -> None:
    x, y, w, h = (round(float(v), 2) for v in box)
    annotations.append({"id": first_id + len(annotations), "image_id": image_id, "category_id": category_id,
                        "bbox": [x, y, w, h], "area": round(w * h, 2), "iscrowd": crowd, "ignore": crowd})


def _detect(rng, image_id: int, boxes: np.ndarray, classes: np.ndarray, difficulty: float,
            spec: SyntheticSpec) -> list:
    found = rng.random(len(boxes)) < 0.85 * difficulty
    dets = []
    for box, cls in zip(boxes[found], classes[found]):
        for _ in range(1 + (rng.random() < 0.1)):  # occasional duplicates
            jitter = rng.normal(0, 0.08 / difficulty ** 0.5, 4) * np.r_[box[2:], box[2:]]
            b = box + jitter
            b[2:] = np.maximum(b[2:], 2.0)
            c = int(rng.integers(spec.num_classes)) if rng.random() < 0.08 else int(cls)
            dets.append((b, c, float(np.clip(rng.beta(5, 2) * difficulty, 0.01, 1.0))))
    for b in _boxes(rng, spec.dets_per_image, spec):  # background
        dets.append((b, int(rng.integers(spec.num_classes)), float(rng.beta(1.2, 6))))
    dets.sort(key=lambda d: -d[2])
    return [{"image_id": image_id, "category_id": c, "bbox": [round(float(v), 2) for v in b],
             "score": round(s, 5)} for b, c, s in dets[: spec.dets_per_image]]
