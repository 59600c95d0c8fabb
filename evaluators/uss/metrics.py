"""The USS scorer: one mergeable pixel state, two matchings, two means, and STEGO's extra-cluster rule.

State (all sums, so ``merge`` is addition), for C classes and K >= C clusters:
- ``confusion`` int64 (K + 1, C): pixels by predicted cluster (row K: predictions outside 0..K-1) and ground-truth
  class; pixels whose ground truth lies outside 0..C-1 (void: 255, -1, 1000, ...) are not counted;
- ``cooccurrence`` int64 (K, C): images in which cluster k and class c both occur (over counted pixels);
- ``top_hits`` int64 (K, C): images whose largest cluster (first on ties; the background cluster excluded) is k
  and that contain class c;
- ``num_images``.

Switches of ``compute`` (independent):
- ``matching``: ``pixel-hungarian`` (STEGO / PiCIE: scipy ``linear_sum_assignment`` maximising the agreeing pixels of
  the confusion matrix) or ``image-cooccurrence`` (the official LUSS matching: munkres on the float32 cost
  1 - co-occurring images / images, see ``evaluators.luss.matching``);
- ``mean``: ``nan-skip`` (STEGO: classes whose IoU is 0/0 are left out) or ``official`` (LUSS: every class,
  tp / (pred + gt - tp + 1e-10), absent classes count 0);
- ``extra``: ``drop`` (STEGO's ``UnsupervisedMetrics`` as published: only pixels with 0 <= prediction < C are
  counted, so pixels in extra clusters vanish; with K > C two assignments are solved, the table gets an "Extra"
  row of the clusters the first left unmatched, and its IoU (0 when that row holds pixels) joins the NaN-skipping
  mean) or ``wrong`` (corrected: every pixel counts, one assignment, pixels of unmatched clusters and of
  out-of-range predictions count as errors against their true class; the mean runs over the C classes only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from evaluators.luss.masks import count_ids
from evaluators.luss.matching import munkres_pairs
from plumbing.errors import BadInputError, IncompatibleError

MATCHINGS = ("pixel-hungarian", "image-cooccurrence")
MEANS = ("nan-skip", "official")
EXTRAS = ("drop", "wrong")
IOU_EPS = 1e-10  # the official LUSS denominator guard
UNMATCHED = -1  # what the assignment maps clusters without a class to


def _kept(values: np.ndarray, limit: int, fill: int, dtype) -> np.ndarray:
    """``values`` where 0 <= value < limit, else ``fill``, as ``dtype`` (negative values included)."""
    inside = values < limit if values.dtype.kind == "u" else values.astype(np.uint64) < limit
    return np.where(inside, values.astype(dtype), np.asarray(fill, dtype))


@lru_cache(maxsize=16)
def _key_tables(num_classes: int, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """uint16 look-up tables of 8-bit values: prediction -> (cluster or K) * C, ground truth -> class or (K + 1) * C."""
    values = np.arange(256)
    bins = (clusters + 1) * num_classes
    return ((np.minimum(values, clusters) * num_classes).astype(np.uint16),
            np.where(values < num_classes, values, bins).astype(np.uint16))


def joint_counts(gt: np.ndarray, pred: np.ndarray, num_classes: int, clusters: int) -> np.ndarray:
    """One image's int64 (K + 1, C) pixel counts by (cluster, class); row K collects predictions outside 0..K-1,
    ground truth outside 0..C-1 is not counted. ``gt`` and ``pred``: (H, W) integer arrays of one shape."""
    c, k = num_classes, clusters
    bins = (k + 1) * c
    if (2 * k + 1) * c < 1 << 16:  # the keys fit uint16: OpenCV's histogram
        if gt.dtype == np.uint8 and pred.dtype == np.uint8 and gt.ndim == 2:  # 8-bit maps: two OpenCV look-ups
            pred_table, gt_table = _key_tables(c, k)
            key = cv2.add(cv2.LUT(np.ascontiguousarray(pred), pred_table), cv2.LUT(np.ascontiguousarray(gt), gt_table))
        else:
            key = _kept(pred, k, k, np.uint16) * np.uint16(c) + _kept(gt, c, bins, np.uint16)
        return count_ids(key, bins).reshape(k + 1, c)
    key = _kept(pred, k, k, np.int64) * c + _kept(gt, c, bins, np.int64)
    return np.bincount(key.ravel(), minlength=2 * bins)[:bins].reshape(k + 1, c)


def _check_pair(gt: np.ndarray, pred: np.ndarray) -> None:
    if gt.shape != pred.shape or gt.ndim not in (2, 3):
        raise BadInputError(f"expected ground truth and prediction of one (H, W) or (B, H, W) shape, got {gt.shape} "
                            f"and {pred.shape}")
    if gt.size == 0:
        raise BadInputError(f"expected non-empty masks, got shape {gt.shape}")
    if gt.dtype.kind not in "iu" or pred.dtype.kind not in "iu":
        raise BadInputError(f"expected integer ids, got {gt.dtype} and {pred.dtype}")


def _solve(matrix: np.ndarray, background: int | None, solver) -> list[tuple[int, int]]:
    """(row, column) pairs of ``solver`` on ``matrix`` with the background row and column fixed to each other."""
    if background is None:
        return solver(matrix)
    rows = np.delete(np.arange(matrix.shape[0]), background)
    cols = np.delete(np.arange(matrix.shape[1]), background)
    pairs = solver(matrix[np.ix_(rows, cols)])
    return [(background, background)] + [(int(rows[r]), int(cols[c])) for r, c in pairs]


def _max_agreement(matrix: np.ndarray) -> list[tuple[int, int]]:
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols)]


def _core(pairs: list[tuple[int, int]], num_classes: int) -> np.ndarray:
    """The cluster matched to each class 0..C-1, from (cluster, class) pairs."""
    core = np.empty(num_classes, np.intp)
    for cluster, cls in pairs:
        core[cls] = cluster
    return core


def _average(ious: np.ndarray, mean: str) -> float:
    """The mean IoU in percent: LUSS's ``np.mean(iou * 100)`` over every entry, or STEGO's mean of the entries that
    are not NaN, times 100 (NaN when none is left)."""
    if mean == "official":
        return float(np.mean(ious * 100)) if ious.size else math.nan
    kept = ious[~np.isnan(ious)]
    return float(kept.mean() * 100) if kept.size else math.nan


@dataclass(frozen=True)
class USSResult:
    """Scores in percent. ``ious`` has C entries (NaN where the mean skips a class); ``assignment`` maps every cluster
    0..K-1 to its class (``UNMATCHED`` = -1 for clusters without one); ``metrics`` holds ``mIoU``,
    ``pixel_accuracy``, ``image_accuracy`` (image-level LUSS accuracy; image co-occurrence matching only, else NaN)
    and, with a thing/stuff split, ``mIoU_things`` and ``mIoU_stuff``."""

    num_classes: int
    clusters: int
    num_images: int
    matching: str
    mean: str
    extra: str
    metrics: dict
    ious: np.ndarray = field(repr=False)
    assignment: dict = field(repr=False)
    class_names: tuple = field(repr=False, default=())
    dataset: str | None = None
    extra_iou: float = math.nan

    def to_dict(self) -> dict:
        """The JSON record: ``dataset, matching, mean, extra, clusters, num_classes, num_images``, the metrics,
        ``classes`` (names), ``IoUs`` (per class, null where NaN) and ``assignment`` ("cluster" -> class id)."""
        return {"dataset": self.dataset, "matching": self.matching, "mean": self.mean, "extra": self.extra,
                "clusters": self.clusters, "num_classes": self.num_classes, "num_images": self.num_images,
                **self.metrics, "classes": list(self.class_names), "IoUs": [float(v) for v in self.ious],
                "assignment": {str(k): int(v) for k, v in sorted(self.assignment.items())}}


class USSEvaluator:
    """Streaming USS evaluation: ``update(gt, pred)`` per image or batch, ``merge`` partial evaluators, ``compute``.

    Args:
        num_classes: C, the ground-truth classes 0..C-1 (any other ground-truth value is void).
        clusters: K >= C predicted clusters 0..K-1 (default C).
        background: a class whose cluster of the same id is fixed to it and kept out of the matching (ImageNet-S:
            0); None for the USS datasets.
        things: with a thing/stuff split, the number of leading thing classes (COCO-Stuff-27: 12).
    Raises:
        BadInputError: C < 1, K < C, or a background or thing count out of range.
    """

    STATE_KIND = "uss-evaluation"  # for evaluators.luss.state's shard files

    def __init__(self, num_classes: int, clusters: int | None = None, *, background: int | None = None,
                 things: int | None = None):
        self.num_classes = int(num_classes)
        self.clusters = self.num_classes if clusters is None else int(clusters)
        if self.num_classes < 1 or self.clusters < self.num_classes:
            raise BadInputError(f"expected clusters >= classes >= 1, got {self.clusters} clusters for "
                                f"{self.num_classes} classes")
        if background is not None and not 0 <= background < self.num_classes:
            raise BadInputError(f"background {background} is not a class in 0..{self.num_classes - 1}")
        if things is not None and not 0 < things < self.num_classes:
            raise BadInputError(f"things {things}: expected 1..{self.num_classes - 1} leading thing classes")
        self.background, self.things = background, things
        self.reset()

    def reset(self) -> None:
        """Forget every image (zero state)."""
        c, k = self.num_classes, self.clusters
        self.confusion = np.zeros((k + 1, c), np.int64)
        self.cooccurrence = np.zeros((k, c), np.int64)
        self.top_hits = np.zeros((k, c), np.int64)
        self.num_images = 0

    def update(self, gt, pred, *, validate: bool = True) -> None:
        """Add one image ((H, W)) or a batch ((B, H, W)): ground-truth class ids (void: anything outside 0..C-1)
        and predicted cluster ids (outside 0..K-1: no cluster), integer arrays of one shape.

        Raises:
            BadInputError: (with ``validate``) shapes differ, are not 2-D or 3-D, are empty, or are not integers."""
        gt, pred = np.asarray(gt), np.asarray(pred)
        if validate:
            _check_pair(gt, pred)
        if gt.ndim == 3:
            for g, p in zip(gt, pred):
                self.add_counts(joint_counts(g, p, self.num_classes, self.clusters))
        else:
            self.add_counts(joint_counts(gt, pred, self.num_classes, self.clusters))

    def add_counts(self, joint: np.ndarray) -> None:
        """Add one image given its (K + 1, C) pixel counts (``joint_counts``)."""
        self.confusion += joint
        classes = np.flatnonzero(joint.sum(axis=0))
        pixels = joint[:self.clusters].sum(axis=1)
        self.cooccurrence[np.ix_(np.flatnonzero(pixels), classes)] += 1
        if self.background is not None:
            pixels[self.background] = 0
        top = int(np.argmax(pixels))
        if pixels[top] > 0:
            self.top_hits[top, classes] += 1
        self.num_images += 1

    def merge(self, other: USSEvaluator) -> USSEvaluator:
        """Add ``other``'s images (a shard, a worker, a rank) to this evaluator; returns ``self``.

        Raises:
            IncompatibleError: different classes, clusters or background."""
        if (other.num_classes, other.clusters, other.background) != (self.num_classes, self.clusters,
                                                                     self.background):
            raise IncompatibleError(f"cannot merge evaluators of {other.num_classes} classes / {other.clusters} "
                                    f"clusters and {self.num_classes} / {self.clusters}")
        self.confusion += other.confusion
        self.cooccurrence += other.cooccurrence
        self.top_hits += other.top_hits
        self.num_images += other.num_images
        return self

    def state(self) -> dict:
        """The state as plain arrays and numbers (see ``from_state``)."""
        return {"num_classes": self.num_classes, "clusters": self.clusters, "background": self.background,
                "things": self.things, "confusion": self.confusion.copy(), "cooccurrence": self.cooccurrence.copy(),
                "top_hits": self.top_hits.copy(), "num_images": self.num_images}

    @classmethod
    def from_state(cls, state: dict) -> USSEvaluator:
        """An evaluator rebuilt from ``state()``'s dict.

        Raises:
            BadInputError: arrays of the wrong shape or not integers."""
        ev = cls(state["num_classes"], state["clusters"], background=state.get("background"),
                 things=state.get("things"))
        for key in ("confusion", "cooccurrence", "top_hits"):
            value = np.asarray(state[key])
            if value.shape != getattr(ev, key).shape or value.dtype.kind not in "iu":
                raise BadInputError(f"state: {key} of shape {value.shape} does not fit {ev.clusters} clusters and "
                                    f"{ev.num_classes} classes")
            setattr(ev, key, value.astype(np.int64))
        ev.num_images = int(state["num_images"])
        return ev

    def _assignment(self, counts: np.ndarray, cooccurrence: np.ndarray, matching: str,
                    extra: str) -> tuple[np.ndarray, list[int]]:
        """(cluster of each class, unmatched clusters) under the chosen matching."""
        c, k = self.num_classes, self.clusters
        if matching == "image-cooccurrence":
            cost = 1.0 - cooccurrence / self.num_images
            pairs = _solve(cost, self.background, munkres_pairs)
        elif extra == "drop" and k > c:
            # STEGO: the unmatched clusters come from the assignment of clusters to classes, the core from a second
            # assignment of classes to clusters, solved independently
            first = _solve(counts, self.background, _max_agreement)
            second = _solve(counts.T, self.background, _max_agreement)
            matched = {r for r, _ in first}
            return _core([(cl, cs) for cs, cl in second], c), [i for i in range(k) if i not in matched]
        else:
            pairs = _solve(counts, self.background, _max_agreement)
        core = _core(pairs, c)
        matched = set(core.tolist())
        return core, [i for i in range(k) if i not in matched]

    def compute(self, matching: str = "pixel-hungarian", mean: str = "nan-skip", extra: str = "drop", *,
                class_names=None, dataset: str | None = None) -> USSResult:
        """Match clusters to classes and score (see the module's switches); numbers in percent.

        Raises:
            BadInputError: an unknown switch, no image evaluated, or class names of the wrong count."""
        for name, value, allowed in (("matching", matching, MATCHINGS), ("mean", mean, MEANS),
                                     ("extra", extra, EXTRAS)):
            if value not in allowed:
                raise BadInputError(f"{name} {value!r}: expected one of {', '.join(allowed)}")
        if self.num_images == 0:
            raise BadInputError("no images were evaluated")
        c, k = self.num_classes, self.clusters
        names = tuple(class_names) if class_names is not None else tuple(str(i) for i in range(c))
        if len(names) != c:
            raise BadInputError(f"expected {c} class names, got {len(names)}")
        counts, outside, cooccurrence = self.confusion[:k].copy(), self.confusion[k].copy(), self.cooccurrence.copy()
        if extra == "drop":  # STEGO counts a pixel only when 0 <= prediction < C
            counts[c:], outside[:], cooccurrence[c:] = 0, 0, 0
        core, unmatched = self._assignment(counts, cooccurrence, matching, extra)
        table = counts[core]  # row j: the cluster matched to class j
        extra_row = counts[unmatched].sum(axis=0) + outside
        tp = np.diag(table).astype(np.float64)
        gt = (table.sum(axis=0) + extra_row).astype(np.float64)
        pred = table.sum(axis=1).astype(np.float64)
        extra_iou = math.nan
        if mean == "official":
            ious = tp / (pred + gt - tp + IOU_EPS)
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                ious = tp / (tp + (gt - tp) + (pred - tp))
            if extra == "drop" and k > c:  # STEGO's "Extra" class: never a true positive
                extra_iou = 0.0 if extra_row.sum() > 0 else math.nan
        entries = np.append(ious, extra_iou) if mean == "nan-skip" and extra == "drop" and k > c else ious
        total = table.sum() + extra_row.sum()
        metrics = {"mIoU": _average(entries, mean),
                   "pixel_accuracy": float(np.trace(table) / total * 100) if total else math.nan,
                   "image_accuracy": math.nan}
        if matching == "image-cooccurrence":
            metrics["image_accuracy"] = float(self.top_hits[core, np.arange(c)].sum() / self.num_images * 100)
        if self.things is not None:
            metrics["mIoU_things"] = _average(ious[:self.things], mean)
            metrics["mIoU_stuff"] = _average(ious[self.things:], mean)
        assignment = {cluster: UNMATCHED for cluster in range(k)}
        assignment.update({int(cluster): cls for cls, cluster in enumerate(core)})
        return USSResult(c, k, self.num_images, matching, mean, extra, metrics, ious * 100, assignment, names,
                         dataset, extra_iou)
