"""Detection evaluation: ``evaluate_detections`` and ``DetectionEvaluator`` -> ``DetectionResult``.

Values are fractions as in pycocotools, -1 where undefined (no ground truth). Summaries follow
pycocotools' ``summarize``: AP over IoU .50:.95 at ``ap_max_det`` detections, AP50/AP75/APs/APm/APl
and ARs/ARm/ARl at the last limit, AR at each limit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from evaluators.detection.conditions import ALL
from evaluators.detection.engines import BACKENDS, Accumulated, hotcoco_eval, run_engine
from evaluators.detection.presets import PROTOCOLS, Preset, get_preset
from evaluators.detection.problem import Problem, build_problem
from evaluators.detection.validate import Detections, GroundTruth, load_detections, load_ground_truth

RESULT_VERSION = 1


@dataclass(frozen=True)
class DetectionResult:
    """Everything one evaluation produced. ``precision`` is ``[T, R, B, K, A, M]`` (buckets x classes)."""

    preset: str
    backend: str
    protocol: str
    params: dict
    stats: list
    metrics: dict
    conditions: dict
    categories: dict
    precision: np.ndarray = field(repr=False)
    recall: np.ndarray = field(repr=False)
    buckets: list = field(repr=False)
    errors: dict | None = None

    def to_dict(self) -> dict:
        out = {"version": RESULT_VERSION, "preset": self.preset, "backend": self.backend, "protocol": self.protocol,
               "params": self.params, "stats": self.stats, "metrics": self.metrics, "conditions": self.conditions,
               "categories": self.categories}
        if self.errors is not None:
            out["errors"] = self.errors
        return out

    def pr_curve(self, bucket: str = ALL, iou: float = 0.5) -> np.ndarray:
        """Mean precision over classes at each of the 101 recall thresholds (-1 where undefined)."""
        t = _iou_index(self.params["iou_thrs"], iou)
        prec = self.precision[t, :, self.buckets.index(bucket), :, 0, -1]  # [R, K]
        valid = prec > -1
        counts = valid.sum(1)
        return np.where(counts > 0, np.where(valid, prec, 0).sum(1) / np.maximum(counts, 1), -1.0)


def evaluate_detections(gt: Any, dt: Any, preset: "str | Preset" = "aodraw", backend: str = "hotcoco",
                        protocol: str | None = None, *, area_ranges=None, max_dets=None, iou_thrs=None,
                        errors: bool = False) -> DetectionResult:
    """Score detections against a ground truth.

    Args:
        gt: COCO ground-truth path or dict (images may carry a ``tag`` list of conditions).
        dt: COCO results path or list (``image_id``, ``category_id``, ``bbox`` xywh, ``score``).
        preset: ``coco``, ``aodraw`` (downsampled images) or ``aodraw-slice``, or a ``Preset``.
        backend: ``hotcoco`` (default, fast) or ``pycocotools`` (reference); results are identical.
        protocol: ``official`` (default: upstream's numbers, quirks included) or ``corrected``.
        area_ranges, max_dets, iou_thrs: override the preset's parameters.
        errors: also compute the TIDE error breakdown (hotcoco's ``tide_errors``).
    Raises:
        BadInputError: malformed input, naming the file and the offending entry.
    """
    protocol = protocol or "official"
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    preset = get_preset(preset).with_overrides(area_ranges, max_dets, iou_thrs)
    gt = load_ground_truth(gt)
    dt = load_detections(dt, gt)
    problem = build_problem(gt, dt, preset, protocol)
    acc = run_engine(problem, preset, backend)
    tide = tide_errors(gt, dt, preset) if errors else None
    return summarize(problem, acc, preset, backend, protocol, tide)


def tide_errors(gt: GroundTruth, dt: Detections, preset: Preset) -> dict:
    """TIDE-style error breakdown (classification, localisation, both, duplicate, background, missed)
    over all images, ignore regions applied, from hotcoco's ``tide_errors``."""
    untagged = GroundTruth(**{**gt.__dict__, "image_tags": [None] * len(gt.image_tags)})
    ev = hotcoco_eval(build_problem(untagged, dt, preset, "corrected"), preset)
    return ev.tide_errors()


class DetectionEvaluator:
    """Streaming evaluation for training loops: ``update`` per batch, ``merge`` across workers, ``compute``.

    ``update`` takes detections in the COCO results format (a list of dicts) and validates them
    against the ground truth at once, so a bad batch fails where it is produced.
    """

    def __init__(self, gt: Any, preset: "str | Preset" = "aodraw", backend: str = "hotcoco",
                 protocol: str | None = None, **overrides):
        self.gt = load_ground_truth(gt)
        self.options = dict(preset=preset, backend=backend, protocol=protocol, **overrides)
        self._parts: list[Detections] = []

    def reset(self) -> None:
        self._parts = []

    def update(self, image_results: Iterable[dict]) -> None:
        image_results = list(image_results)
        if image_results:
            self._parts.append(load_detections(image_results, self.gt))

    def merge(self, other: "DetectionEvaluator") -> None:
        if other.gt is not self.gt and other.gt.source != self.gt.source:
            raise ValueError("cannot merge evaluators built on different ground truths")
        self._parts.extend(other._parts)

    def compute(self) -> DetectionResult:
        dets = Detections.concatenate(self._parts, "<updates>")
        return evaluate_detections(self.gt, dets, **self.options)


def _iou_index(thrs, iou: float) -> int:
    hits = np.flatnonzero(np.isclose(np.asarray(thrs), iou))
    if not len(hits):
        raise ValueError(f"IoU threshold {iou} is not among the evaluated thresholds")
    return int(hits[0])


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def summarize(problem: Problem, acc: Accumulated, preset: Preset, backend: str, protocol: str,
              tide: dict | None = None) -> DetectionResult:
    T, R, V, A, M = acc.precision.shape
    B, K = len(problem.buckets), len(problem.cat_ids)
    prec = acc.precision.reshape(T, R, B, K, A, M)
    rec = acc.recall.reshape(T, B, K, A, M)
    m_ap = list(preset.max_dets).index(preset.ap_max_det) if preset.ap_max_det in preset.max_dets else None
    thrs = preset.iou_thrs
    i50, i75 = _iou_index(thrs, 0.5), _iou_index(thrs, 0.75)

    def ap(b, k=slice(None), t=slice(None), a=0, m=-1):
        if m is None:
            return -1.0
        return _mean_valid(prec[t, :, b, k, a, m])

    def ar(b, a=0, m=-1):
        return _mean_valid(rec[:, b, :, a, m])

    b_all = problem.buckets.index(ALL)
    metrics = {"AP": ap(b_all, m=m_ap), "AP50": ap(b_all, t=i50), "AP75": ap(b_all, t=i75),
               "APs": ap(b_all, a=1), "APm": ap(b_all, a=2), "APl": ap(b_all, a=3)}
    metrics.update({f"AR{m}": ar(b_all, m=j) for j, m in enumerate(preset.max_dets)})
    metrics.update({"ARs": ar(b_all, a=1), "ARm": ar(b_all, a=2), "ARl": ar(b_all, a=3)})
    conditions = {name: {"AP": ap(b, m=m_ap), "AP50": ap(b, t=i50), "AP75": ap(b, t=i75),
                         "num_images": int(problem.bucket_images[b])}
                  for b, name in enumerate(problem.buckets)}
    categories = {name: {"AP": ap(b_all, k=k, m=m_ap), "AP50": ap(b_all, k=k, t=i50)}
                  for k, name in enumerate(problem.cat_names)}
    params = {"area_ranges": [list(r) for r in preset.area_ranges], "max_dets": list(preset.max_dets),
              "ap_max_det": preset.ap_max_det, "iou_thrs": [float(t) for t in thrs],
              "ignore_category": preset.ignore_category}
    return DetectionResult(preset.name, backend, protocol, params, list(metrics.values()), metrics, conditions,
                           categories, prec, rec, list(problem.buckets), tide)
