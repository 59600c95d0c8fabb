"""The LUSS metrics of the official ImageNet-S evaluator, on CPU, in int64/float64.

Per image (ground truth ``gt`` and prediction ``pred``, both (H, W) class ids): boundary maps are
computed on the full image, then every pixel whose ground truth is 1000 (ignore) is dropped. Counts
run over K = N + 1 classes (0 = background); predicted labels outside 0..N count for no class.

State (all sums, so ``merge`` is addition): ``counts[kind, group, stat, class]`` with kind
region/boundary, group all/S/MS/ML/L, stat intersection/prediction/ground truth; the summed
per-image F-measure, the number of images whose largest predicted class is in the ground truth,
and the number of images.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from evaluators.luss.masks import IGNORE, as_uint16, check_ground_truth, count_ids
from plumbing.errors import BadInputError, IncompatibleError

SIZE_BUCKETS = ("S", "MS", "ML", "L")
SIZE_LIMITS = (5, 25, 50)  # ceil(100 * class pixels / non-ignored pixels) <= limit; larger is L
BOUNDARY_RATIO = 0.03
F_BETA = 0.3  # beta squared in the usual notation, as upstream
F_EPS = 1e-20
IOU_EPS = 1e-10
METRIC_KEYS = ("mIoU", "Acc", "mBIoU", "S", "MS", "ML", "L", "BS", "BMS", "BML", "BL", "FMeasure")

REGION, BOUNDARY = 0, 1
TP, PRED, GT = 0, 1, 2
_BG_GROUP = len(SIZE_BUCKETS)  # groups 0..3 are the size buckets, 4 collects ground-truth background


def boundary_width(height: int, width: int) -> int:
    """Erosion steps of the official boundary: max(1, round(0.03 * diagonal)), Python rounding."""
    return max(1, round(BOUNDARY_RATIO * math.sqrt(height * height + width * width)))


def boundary_mask(labels: np.ndarray) -> np.ndarray:
    """Pixels on the boundary of their own label region, as upstream's per-label erosion.

    Upstream erodes each label's binary mask, padded by one zero pixel, d times with a 3x3 kernel and
    keeps mask minus eroded mask. A pixel therefore survives the erosion exactly when every pixel within
    Chebyshev distance d lies inside the image and carries the same label, that is when the minimum and
    maximum label over the (2d+1)^2 window agree and the pixel is at least d pixels from the edge.
    """
    h, w = labels.shape
    d = boundary_width(h, w)
    labels = as_uint16(labels)  # labels above 65535 only ever meet other no-class labels
    kernel = np.ones((2 * d + 1, 2 * d + 1), np.uint8)
    edge = cv2.erode(labels, kernel) != cv2.dilate(labels, kernel)
    edge[:d] = edge[h - d:] = True
    edge[:, :d] = edge[:, w - d:] = True
    return edge


def _size_groups(labels: np.ndarray, pixels: np.ndarray, total: int) -> np.ndarray:
    """Group per ground-truth label: its size bucket (0..3), background -> 4.

    The size ceil(100 * pixels / total) is computed in float32 like upstream (CUDA float32 tensors),
    so a class right at a bucket limit lands where the official evaluator puts it.
    """
    groups = np.full(labels.size, _BG_GROUP, np.intp)
    fg = labels > 0
    if fg.any():
        share = (pixels[fg].astype(np.float32) * np.float32(100.0)) / np.float32(total)
        sizes = np.ceil(share.astype(np.float64))
        groups[fg] = np.searchsorted(np.asarray(SIZE_LIMITS, np.float64), sizes, side="left")
    return groups


def _joint_counts(gt: np.ndarray, pred: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels counted by (ground-truth label, predicted class, on GT boundary, on predicted boundary).

    Returns (labels, joint): the ground-truth labels present (1000 excluded) and a (rows, k + 1, 2, 2)
    int64 array; predicted class k collects labels outside 0..N. Boundaries use the full image; the
    ignore row is dropped afterwards, which removes ignored pixels from every count at once.
    """
    gt16, pred16 = as_uint16(gt), as_uint16(pred)
    labels = np.flatnonzero(count_ids(gt16, IGNORE + 1))
    row_size = 4 * (k + 1)
    bins = labels.size * row_size
    row_start = np.zeros(IGNORE + 1, np.uint16 if bins <= 2**16 else np.intp)
    row_start[labels] = np.arange(labels.size) * row_size
    key = np.take(row_start, gt16)
    key += np.minimum(pred16, k) << 2
    key += boundary_mask(gt16).view(np.uint8) << 1
    key += boundary_mask(pred16).view(np.uint8)
    if key.dtype == np.uint16:
        joint = count_ids(key, bins)
    else:
        joint = np.bincount(key.ravel(), minlength=bins)
    valid = labels != IGNORE
    return labels[valid], joint.reshape(labels.size, k + 1, 2, 2)[valid]


def image_counts(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, float, bool]:
    """One image's contribution: (counts[kind, group, stat, class], F-measure, Acc hit).

    ``gt`` holds ids 0..1000 (1000 = ignore), ``pred`` non-negative ids; both (H, W) integer arrays.
    A size bucket the image uses is scored on its classes' pixels plus all ground-truth background pixels.
    """
    k = num_classes + 1
    labels, joint = _joint_counts(gt, pred, k)
    counts, f_measure, hit = joint_counts_to_state(labels, joint[None], np.arange(k + 1)[None], num_classes)
    return counts[0], float(f_measure[0]), bool(hit[0])


def joint_counts_to_state(labels: np.ndarray, joint: np.ndarray, classes: np.ndarray,
                          num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's evaluator contributions under T labellings of its prediction at once.

    Args:
        labels: (R,) the ground-truth labels present (ignore excluded), sorted.
        joint: (T, R, P, 2, 2) pixel counts by (labelling, ground-truth row, prediction column, on ground-truth
            boundary, on predicted boundary); the ground-truth marginals must not depend on T.
        classes: (T, P) the class 0..N of each prediction column under each labelling; values above N count for
            no class. Within a labelling the classes 0..N must be distinct (a match is one-to-one).
        num_classes: N.
    Returns:
        (counts (T, 2, 5, 3, N + 1) int64 as ``LUSSEvaluator.counts``, F-measures (T,), Acc hits (T,) bool).
    Used by ``image_counts`` (T = 1, identity columns) and by the PASS threshold sweep (one labelling per
    threshold, ``evaluators.luss.sweep``).
    """
    k = num_classes + 1
    t_count = joint.shape[0]
    region = joint.sum(axis=(3, 4))  # (T, R, P)
    row_pixels = region[0].sum(axis=1)
    total = int(row_pixels.sum())
    row_group = _size_groups(labels, row_pixels, total)
    member = (row_group == np.arange(_BG_GROUP + 1)[:, None]).astype(np.int64)  # (5 groups, rows)
    used = member[:_BG_GROUP].any(axis=1)
    rows = np.flatnonzero(labels < k)  # ground-truth labels that are classes 0..N
    cls, cls_group = labels[rows], row_group[rows]
    fg = cls_group < _BG_GROUP
    cols = np.minimum(classes, k)  # column k collects "no class" and is dropped at the end
    t_idx = np.arange(t_count)[:, None]
    same = classes[:, None, :] == labels[None, :, None]  # (T, R, P): the column is the row's class

    counts = np.zeros((t_count, 2, 1 + len(SIZE_BUCKETS), 3, k + 1), np.int64)
    boundary_pred = joint[..., 1].sum(axis=3)
    for kind, gt_rows, pred_rows, tp_src in (
            (REGION, row_pixels, region, region),
            (BOUNDARY, joint[0, :, :, 1, :].sum(axis=(1, 2)), boundary_pred, joint[..., 1, 1])):
        pred_by_group = np.einsum("gr,trp->tgp", member, pred_rows)
        counts[t_idx, kind, 0, PRED, cols] += pred_by_group.sum(axis=1)
        buckets = pred_by_group[:, :_BG_GROUP] + used[None, :, None] * pred_by_group[:, _BG_GROUP:]
        counts[t_idx[:, :, None], kind, np.arange(1, _BG_GROUP + 1)[None, :, None], PRED, cols[:, None, :]] += buckets
        tp_rows = (tp_src * same).sum(axis=2)[:, rows]  # (T, rows)
        for stat, per_class in ((GT, np.broadcast_to(gt_rows[rows], tp_rows.shape)), (TP, tp_rows)):
            counts[:, kind, 0, stat, cls] = per_class
            counts[:, kind, 1 + cls_group[fg], stat, cls[fg]] = per_class[:, fg]
            if cls.size and cls[0] == 0:  # background joins every bucket the image uses
                counts[:, kind, 1:, stat, 0] = used[None, :] * per_class[:, :1]
    counts = counts[..., :k]

    background = (region * (classes == 0)[:, None, :]).sum(axis=2)  # (T, R) pixels predicted as background
    fg_gt = total - int(row_pixels[labels == 0].sum())
    fg_pred = total - background.sum(axis=1)
    missed = background[:, labels > 0].sum(axis=1)
    f_measure = _f_measure(fg_gt, fg_pred, fg_gt - missed)
    pred_all = counts[:, REGION, 0, PRED]
    top = np.argmax(pred_all[:, 1:], axis=1) + 1  # the largest predicted class, first on ties (torch.argmax)
    found = np.arange(t_count)
    hit = (pred_all[found, top] > 0) & (counts[found, REGION, 0, GT, top] > 0)
    return counts, f_measure, hit


def _f_measure(t, p, tp):
    """Upstream's class-agnostic F-measure from foreground pixel counts (numbers or arrays)."""
    recall = tp / (t + F_EPS)
    precision = tp / (p + F_EPS)
    return (1 + F_BETA) * precision * recall / (F_BETA * precision + recall + F_EPS)


def _check_pair(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> None:
    if gt.ndim != 2 or gt.shape != pred.shape:
        raise BadInputError(f"expected two (H, W) arrays of one shape, got {gt.shape} and {pred.shape}")
    if gt.size == 0:
        raise BadInputError(f"expected non-empty masks, got shape {gt.shape}")
    if gt.dtype.kind not in "iu" or pred.dtype.kind not in "iu":
        raise BadInputError(f"expected integer ids, got {gt.dtype} and {pred.dtype}")
    check_ground_truth(gt, "ground truth", num_classes)
    if pred.min() < 0:
        raise BadInputError(f"prediction: negative id {pred.min()}")


@dataclass(frozen=True)
class LUSSResult:
    """Official LUSS metrics in percent; ``ious``/``boundary_ious`` have N + 1 entries (0 = background).

    Bucket means are NaN where no image has a class of that size (upstream's mean of nothing).
    """

    num_classes: int
    num_images: int
    metrics: dict
    ious: np.ndarray = field(repr=False)
    boundary_ious: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        """The official JSON record: the metric keys and ``IoUs``."""
        return {**self.metrics, "IoUs": [float(v) for v in self.ious]}


class LUSSEvaluator:
    """Streaming LUSS evaluation: ``update(gt, pred)`` per image, ``merge`` partial evaluators, ``compute``.

    Args:
        num_classes: N, the number of foreground classes (50, 300 or 919 for ImageNet-S).
    """

    def __init__(self, num_classes: int):
        if not 1 <= int(num_classes) < IGNORE:
            raise BadInputError(f"num_classes must lie in 1..{IGNORE - 1}, got {num_classes}")
        self.num_classes = int(num_classes)
        self.reset()

    def reset(self) -> None:
        """Forget every image: zero ``counts`` (int64 ``(2, 5, 3, N + 1)``: region/boundary x all/S/MS/ML/L x
        intersection/prediction/ground truth x class), F-measure sum, accuracy hits and image count."""
        self.counts = np.zeros((2, 1 + len(SIZE_BUCKETS), 3, self.num_classes + 1), np.int64)
        self.f_measure_sum = 0.0
        self.acc_hits = 0
        self.num_images = 0

    def update(self, gt: np.ndarray, pred: np.ndarray, *, validate: bool = True) -> None:
        """Add one image: ground-truth ids 0..N or 1000 and predicted ids >= 0, both (H, W) integer arrays.

        ``validate=False`` skips the checks for arrays that ``decode_mask`` already checked.
        """
        gt, pred = np.asarray(gt), np.asarray(pred)
        if validate:
            _check_pair(gt, pred, self.num_classes)
        counts, f_measure, hit = image_counts(gt, pred, self.num_classes)
        self.counts += counts
        self.f_measure_sum += f_measure
        self.acc_hits += hit
        self.num_images += 1

    def merge(self, other: LUSSEvaluator) -> LUSSEvaluator:
        """Add another evaluator's images (a shard, a worker) to this one."""
        if other.num_classes != self.num_classes:
            raise IncompatibleError(f"cannot merge evaluators of {other.num_classes} and {self.num_classes} classes")
        self.counts += other.counts
        self.f_measure_sum += other.f_measure_sum
        self.acc_hits += other.acc_hits
        self.num_images += other.num_images
        return self

    def state(self) -> dict:
        """The accumulated state as plain arrays and numbers (see ``from_state``)."""
        return {"num_classes": self.num_classes, "counts": self.counts.copy(),
                "f_measure_sum": self.f_measure_sum, "acc_hits": self.acc_hits, "num_images": self.num_images}

    @classmethod
    def from_state(cls, state: dict) -> LUSSEvaluator:
        """An evaluator rebuilt from ``state()``'s dict.

        Raises:
            BadInputError: ``num_classes`` out of range, or counts of the wrong shape or not integers."""
        ev = cls(int(state["num_classes"]))
        counts = np.asarray(state["counts"])
        if counts.shape != ev.counts.shape or counts.dtype.kind not in "iu":
            raise BadInputError(f"state: counts of shape {counts.shape} do not fit {ev.num_classes} classes")
        ev.counts = counts.astype(np.int64)
        ev.f_measure_sum = float(state["f_measure_sum"])
        ev.acc_hits = int(state["acc_hits"])
        ev.num_images = int(state["num_images"])
        return ev

    def compute(self) -> LUSSResult:
        """The official LUSS metrics (ImageNet-S ``evaluation/evaluator.py`` and ``metric.py``) of the images so far,
        in percent: mIoU, Acc, mBIoU, S/MS/ML/L and BS/BMS/BML/BL (NaN where no class of that size occurs), FMeasure.

        Raises:
            BadInputError: no image was evaluated."""
        if self.num_images == 0:
            raise BadInputError("no images were evaluated")
        tp, pred, gt = (self.counts[:, :, s].astype(np.float64) for s in (TP, PRED, GT))
        iou = tp / (pred + gt - tp + IOU_EPS)  # [kind, group, class]
        metrics = {"mIoU": float(np.mean(iou[REGION, 0] * 100)),
                   "Acc": self.acc_hits / self.num_images * 100,
                   "mBIoU": float(np.mean(iou[BOUNDARY, 0] * 100))}
        for kind, prefix in ((REGION, ""), (BOUNDARY, "B")):
            for b, name in enumerate(SIZE_BUCKETS, start=1):
                present = gt[kind, b] > 0
                metrics[prefix + name] = float(np.mean(iou[kind, b][present])) * 100 if present.any() else math.nan
        metrics["FMeasure"] = self.f_measure_sum / self.num_images * 100
        metrics = {k: metrics[k] for k in METRIC_KEYS}
        return LUSSResult(self.num_classes, self.num_images, metrics, iou[REGION, 0] * 100, iou[BOUNDARY, 0] * 100)
