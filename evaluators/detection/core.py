"""Detection evaluation: ``evaluate_detections`` and ``DetectionEvaluator`` -> ``DetectionResult``.

Values are fractions as in pycocotools, -1 where undefined (no ground truth). Summaries follow
pycocotools' ``summarize``: AP over IoU .50:.95 at ``ap_max_det`` detections, AP50/AP75/APs/APm/APl
and ARs/ARm/ARl at the last limit, AR at each limit.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from evaluators.detection.conditions import ALL
from evaluators.detection.engines import BACKENDS, Accumulated, hotcoco_eval, run_engine
from evaluators.detection.ids import json_id
from evaluators.detection.presets import PROTOCOLS, Preset, get_preset
from evaluators.detection.problem import Problem, build_problem
from evaluators.detection.validate import Detections, GroundTruth, load_detections, load_ground_truth, load_inputs
from plumbing.errors import BadInputError, IncompatibleError, UnknownNameError, warn

RESULT_VERSION = 1
# Virtual detections per engine pass over the condition buckets: bounds memory (~1 KB each in hotcoco).
MAX_DETECTIONS_PER_PASS = 200_000


@dataclass(frozen=True)
class DetectionResult:
    """Everything one evaluation produced.

    ``precision`` ``[T, R, B, K, L]`` and ``recall`` ``[T, B, K, L]`` hold buckets x classes at area
    "all" for the limits in ``params["bucket_max_dets"]`` (the ones the bucket metrics use).

    ``categories`` is keyed by category name, or by ``"<name> (id <id>)"`` for categories that share a name
    (``validate.category_keys``); every entry carries the category's ``id`` (integers beyond 64 bits as strings).
    """

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
        """The JSON record (``version``, preset, backend, protocol, params, stats, metrics, conditions, categories,
        and ``errors`` when computed); the precision/recall arrays are left out."""
        out = {"version": RESULT_VERSION, "preset": self.preset, "backend": self.backend, "protocol": self.protocol,
               "params": self.params, "stats": self.stats, "metrics": self.metrics, "conditions": self.conditions,
               "categories": self.categories}
        if self.errors is not None:
            out["errors"] = self.errors
        return out

    def pr_curve(self, bucket: str = ALL, iou: float = 0.5) -> np.ndarray:
        """Mean precision over classes at each of the 101 recall thresholds (-1 where undefined)."""
        t = _iou_index(self.params["iou_thrs"], iou)
        prec = self.precision[t, :, self.buckets.index(bucket), :, -1]  # [R, K]
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
        raise UnknownNameError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if backend not in BACKENDS:
        raise UnknownNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    preset = get_preset(preset).with_overrides(area_ranges, max_dets, iou_thrs)
    with gc_paused():
        return _evaluate(gt, dt, preset, backend, protocol, errors)


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector: parsing and indexing allocate millions of containers that
    would otherwise trigger repeated full scans (this more than halves JSON loading), and none of them
    form cycles that need collecting before the evaluation ends."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _evaluate(gt, dt, preset: Preset, backend: str, protocol: str, errors: bool) -> DetectionResult:
    gt, dt = load_inputs(gt, dt)
    flat = int((dt.boxes[:, 2:] == 0).any(axis=1).sum())
    if flat:  # a box clipped at the image border, for example; pycocotools scores it the same way
        warn(f"{dt.source}: {flat} detections have zero width or height; they overlap nothing and count as false "
             "positives")
    problem = build_problem(gt, dt, preset, protocol)
    K = len(problem.cat_ids)
    overall = run_engine(problem, preset, backend, np.arange(K))  # bucket "all" comes first
    # The other buckets only report area "all" at two limits: evaluate just that, a group of buckets at a
    # time (categories are independent) so that memory stays bounded.
    bucket_preset = replace(preset, area_ranges=preset.area_ranges[:1], max_dets=bucket_max_dets(preset))
    parts = [run_engine(problem, bucket_preset, backend, np.arange(K * lo, K * hi))
             for lo, hi in bucket_groups(problem)]
    buckets = Accumulated(np.concatenate([p.precision for p in parts], axis=2),
                          np.concatenate([p.recall for p in parts], axis=1)) if parts else None
    tide = tide_errors(gt, dt, preset) if errors else None
    return summarize(problem, overall, buckets, preset, backend, protocol, tide)


def bucket_groups(problem: Problem) -> list:
    """Consecutive bucket ranges [lo, hi) after bucket "all", each holding at most
    ``MAX_DETECTIONS_PER_PASS`` virtual detections (or one bucket)."""
    per_bucket = np.bincount(problem.dt_vcat // len(problem.cat_ids), minlength=len(problem.buckets))
    groups, lo, size = [], 1, 0
    for b in range(1, len(problem.buckets)):
        if b > lo and size + per_bucket[b] > MAX_DETECTIONS_PER_PASS:
            groups.append((lo, b))
            lo, size = b, 0
        size += per_bucket[b]
    return groups + [(lo, len(problem.buckets))] if lo < len(problem.buckets) else groups


def bucket_max_dets(preset: Preset) -> tuple:
    """The limits the per-bucket AP (``ap_max_det``) and AP50/AP75 (the last limit) use."""
    return tuple(sorted({preset.ap_max_det, preset.max_dets[-1]} & set(preset.max_dets)))


def tide_errors(gt: GroundTruth, dt: Detections, preset: Preset) -> dict:
    """TIDE-style error breakdown (classification, localisation, both, duplicate, background, missed)
    over all images, ignore regions applied, from hotcoco's ``tide_errors``."""
    untagged = GroundTruth(**{**gt.__dict__, "image_tags": [[]] * len(gt.image_tags)})
    problem = build_problem(untagged, dt, preset, "corrected")
    ev = hotcoco_eval(problem, preset, np.arange(problem.num_vcats))
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
        """Forget every detection added so far (the ground truth and options stay)."""
        self._parts = []

    def update(self, image_results: Iterable[dict]) -> None:
        """Add COCO results (``{image_id, category_id, bbox: [x, y, w, h], score}``), validated against the ground
        truth at once. Raises BadInputError naming the first bad entry."""
        image_results = list(image_results)
        if image_results:
            self._parts.append(load_detections(image_results, self.gt))

    def merge(self, other: "DetectionEvaluator") -> None:
        """Add another evaluator's detections (a shard, a rank). Raises IncompatibleError when it was built on
        another ground truth (other source, images, categories or boxes) or with other options (preset, backend,
        protocol, overrides): its detections would be scored under this evaluator's options."""
        a, b = self.gt, other.gt
        same = a is b or (a.source == b.source and np.array_equal(a.image_ids, b.image_ids)
                          and np.array_equal(a.cat_ids, b.cat_ids) and np.array_equal(a.ann_boxes, b.ann_boxes))
        if not same:
            raise IncompatibleError("cannot merge evaluators built on different ground truths")
        if self.options != other.options:
            differ = sorted(k for k in self.options.keys() | other.options.keys()
                            if self.options.get(k) != other.options.get(k))
            mine, theirs = [self.options.get(k) for k in differ], [other.options.get(k) for k in differ]
            raise IncompatibleError(f"cannot merge evaluators with different options ({', '.join(differ)}: "
                                    f"{mine} vs {theirs})")
        self._parts.extend(other._parts)

    def compute(self) -> DetectionResult:
        """The result over every detection added (``evaluate_detections`` with this evaluator's options)."""
        dets = Detections.concatenate(self._parts, "<updates>")
        return evaluate_detections(self.gt, dets, **self.options)


def _iou_index(thrs, iou: float) -> int:
    hits = np.flatnonzero(np.isclose(np.asarray(thrs), iou))
    if not len(hits):
        raise BadInputError(f"IoU threshold {iou} is not among the evaluated thresholds")
    return int(hits[0])


def _mean_valid(values: np.ndarray) -> float:
    valid = values[values > -1]
    return float(np.mean(valid)) if valid.size else -1.0


def summarize(problem: Problem, overall: Accumulated, buckets: Accumulated | None, preset: Preset, backend: str,
              protocol: str, tide: dict | None = None) -> DetectionResult:
    """Metrics from the accumulated arrays, as pycocotools' ``summarize`` computes them."""
    thrs = preset.iou_thrs
    i50, i75 = _iou_index(thrs, 0.5), _iou_index(thrs, 0.75)
    limits = list(preset.max_dets)
    m_ap = limits.index(preset.ap_max_det) if preset.ap_max_det in limits else None
    prec, rec = overall.precision, overall.recall  # [T, R, K, A, M], [T, K, A, M] of bucket "all"

    def ap(p, t=slice(None), m=None):
        return -1.0 if m is None else _mean_valid(p[t, :, ..., m])

    metrics = {"AP": ap(prec[..., 0, :], m=m_ap), "AP50": ap(prec[..., 0, :], i50, -1),
               "AP75": ap(prec[..., 0, :], i75, -1)}
    metrics.update({f"AP{s}": ap(prec[..., a, :], m=-1) for a, s in ((1, "s"), (2, "m"), (3, "l"))})
    metrics.update({f"AR{m}": _mean_valid(rec[:, :, 0, j]) for j, m in enumerate(limits)})
    metrics.update({f"AR{s}": _mean_valid(rec[:, :, a, -1]) for a, s in ((1, "s"), (2, "m"), (3, "l"))})

    # Buckets x classes at area "all" for the bucket limits; bucket "all" from the full evaluation.
    B, K = len(problem.buckets), len(problem.cat_ids)
    cols = [limits.index(m) for m in bucket_max_dets(preset)]
    T, R = prec.shape[:2]
    b_prec, b_rec = prec[:, :, None, :, 0, cols], rec[:, None, :, 0, cols]
    if buckets is not None:
        b_prec = np.concatenate([b_prec, buckets.precision[:, :, :, 0, :].reshape(T, R, B - 1, K, len(cols))], axis=2)
        b_rec = np.concatenate([b_rec, buckets.recall[:, :, 0, :].reshape(T, B - 1, K, len(cols))], axis=1)
    b_ap = cols.index(m_ap) if m_ap is not None else None
    conditions = {name: {"AP": ap(b_prec[:, :, b], m=b_ap), "AP50": ap(b_prec[:, :, b], i50, -1),
                         "AP75": ap(b_prec[:, :, b], i75, -1), "num_images": int(problem.bucket_images[b])}
                  for b, name in enumerate(problem.buckets)}
    categories = {key: {"AP": ap(prec[..., k, 0, :], m=m_ap), "AP50": ap(prec[..., k, 0, :], i50, -1), "id": json_id(i)}
                  for k, (key, i) in enumerate(zip(problem.cat_keys, problem.cat_ids.tolist()))}
    params = {"area_ranges": [list(r) for r in preset.area_ranges], "max_dets": limits,
              "ap_max_det": preset.ap_max_det, "bucket_max_dets": list(bucket_max_dets(preset)),
              "iou_thrs": [float(t) for t in thrs], "ignore_category": preset.ignore_category}
    return DetectionResult(preset.name, backend, protocol, params, list(metrics.values()), metrics, conditions,
                           categories, b_prec, b_rec, list(problem.buckets), tide)
