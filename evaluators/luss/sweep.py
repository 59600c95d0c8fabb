"""The PASS threshold sweep: attention-gated predictions scored at many thresholds, as the PASS evaluator does.

PASS (the LUSS paper's baseline, ``LUSSeg/PASS`` ``evaluator.py``) writes per image a label PNG and the
foreground attention map ``NAME.npy`` (float32, H x W) beside it, then scans thresholds t: per t it gates the
prediction (``prediction[attention < t] = 0``, compared in float32, over the whole image, before any
remapping or boundary computation), refits the image-level matching on the gated predictions and computes the
full ImageNet-S metric set; the best row is the first maximum of mIoU. The PASS matching differs from
``match.py``'s: cost = -(number of images where predicted label i and ground-truth class j co-occur), whole
numbers solved with ``munkres`` (same optima as ``1 - n / N``; exact ties may break differently).

Thresholds are fractions in [0, 1] here; upstream's ``evaluator.py`` takes integer percents (``--min 0 --max
80``) while its inference scripts take fractions (``--threshold 0.37``): 37 on one side is 0.37 on the other.

How it is fast: gating is monotone in t. With the thresholds sorted, pixel p keeps its label for the first
``level(p)`` thresholds (the number of thresholds <= its attention) and is background after. Whether p lies
on the gated prediction's boundary is then one interval of threshold indices ``[a, b)``: a pixel whose
ungated window (the (2d+1)^2 erosion window of the boundary) is uniform keeps it interior while every window
pixel is kept (the window's minimum level), and a background pixel is interior while every window pixel is
background (the window's maximum level). So each image is decoded and filtered once and its pixel counts
for every threshold come from three histograms and cumulative sums; two passes over the images (label sets
for the matchings, then counts under each threshold's matching) replace 2 x T upstream passes.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from evaluators.luss.folders import as_source, select_images
from evaluators.luss.masks import IGNORE, MaskFolder, as_uint16, count_ids
from evaluators.luss.matching import assign
from evaluators.luss.metrics import (
    METRIC_KEYS,
    LUSSEvaluator,
    LUSSResult,
    boundary_mask,
    boundary_width,
    joint_counts_to_state,
)
from plumbing.errors import BadInputError
from plumbing.files import load_numpy
from plumbing.jobs import run_chunks

DEFAULT_MIN, DEFAULT_MAX, DEFAULT_STEP = 0.0, 0.80, 0.01
MAX_THRESHOLDS = 10_001


def threshold_grid(minimum: float = DEFAULT_MIN, maximum: float = DEFAULT_MAX,
                   step: float = DEFAULT_STEP) -> list[float]:
    """The thresholds ``minimum, minimum + step, ...`` up to ``maximum`` inclusive, as fractions.

    Each value is rounded to 10 decimals, so the default grid is exactly upstream's ``k / 100.0`` for
    k = 0..80 (81 thresholds). Raises BadInputError outside 0 <= minimum <= maximum <= 1, step > 0, or for
    more than 10,001 thresholds.
    """
    values = (minimum, maximum, step)
    if not all(math.isfinite(v) for v in values) or not 0 <= minimum <= maximum <= 1:
        percents = any(math.isfinite(v) and v > 1 for v in (minimum, maximum))
        raise BadInputError(f"thresholds are fractions with 0 <= min <= max <= 1, got min {minimum}, max {maximum}"
                            + (" (upstream's evaluator takes percents: 37 there is 0.37 here)" if percents else ""))
    if step <= 0:
        raise BadInputError(f"threshold step must be positive, got {step}")
    count = math.floor((maximum - minimum) / step + 1e-9) + 1
    if count > MAX_THRESHOLDS:
        raise BadInputError(f"{count} thresholds requested; at most {MAX_THRESHOLDS}")
    return [round(minimum + i * step, 10) for i in range(count)]


def gate(pred: np.ndarray, attention: np.ndarray, threshold: float) -> np.ndarray:
    """Upstream's gate: a copy of ``pred`` with 0 wherever ``attention < threshold`` (float32 comparison, so a
    pixel whose attention equals the threshold is kept; NaN attention is kept)."""
    out = np.array(pred, copy=True)
    out[np.asarray(attention, np.float32) < np.float32(threshold)] = 0
    return out


def gate_levels(attention: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per pixel, how many of the sorted float32 ``thresholds`` keep it: the number of thresholds <= its
    attention (NaN: all). Pixel p keeps its label at threshold index k < level(p). Returns uint16 (H, W).

    On an evenly spaced grid the level is guessed arithmetically and corrected against the float32 thresholds
    themselves (so it is exactly ``searchsorted``'s answer), about twice as fast as a binary search per pixel."""
    t_count = thresholds.size
    attention = np.asarray(attention, np.float32)
    steps = np.diff(thresholds.astype(np.float64))
    if t_count < 3 or steps.min() <= 0 or steps.max() > 1.01 * steps.min():
        return np.searchsorted(thresholds, attention, side="right").astype(np.uint16)
    guess = (attention - thresholds[0]) * np.float32(1 / steps.mean()) + np.float32(1)
    np.clip(guess, 0, t_count, out=guess)
    guess[np.isnan(guess)] = t_count
    level = guess.astype(np.uint16)
    padded = np.concatenate([[-np.inf], thresholds, [np.nan]]).astype(np.float32)  # padded[i] = thresholds[i - 1]
    for _ in range(3):
        low = np.take(padded, level) > attention  # thresholds[level - 1] > attention: one too many
        high = np.take(padded, level + 1) <= attention  # thresholds[level] <= attention: one too few
        if not (low.any() or high.any()):
            return level
        level = level - low + high
    return np.searchsorted(thresholds, attention, side="right").astype(np.uint16)


def attention_path(pred_root: str | os.PathLike, name: str) -> Path:
    """Where upstream's test mode puts the attention map of prediction ``name``: ``NAME.npy`` beside the PNG."""
    return Path(pred_root) / (name[:-4] + ".npy")


def read_attention(path: Path, shape: tuple) -> np.ndarray:
    """An attention map as float32 (H, W) (upstream casts with ``astype(np.float32)``).

    Raises:
        BadInputError: missing or unreadable file, not a 2-D real array, or not of the mask's shape ``shape``."""
    try:
        array = load_numpy(path)
    except FileNotFoundError:
        raise BadInputError(f"{path}: no attention map beside the prediction (PASS writes NAME.npy with "
                            "--save-attention)") from None
    except BadInputError:
        raise
    except (ValueError, OSError, EOFError) as exc:
        raise BadInputError(f"{path}: not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fiub" or array.ndim != 2:
        raise BadInputError(f"{path}: expected a 2-D real array, got {getattr(array, 'dtype', '?')} of shape "
                            f"{getattr(array, 'shape', '?')}")
    if array.shape != tuple(shape):
        raise BadInputError(f"{path}: attention map of shape {array.shape}, its masks are {tuple(shape)}")
    return array.astype(np.float32)


def _read_image(gt, pred, name: str, num_classes: int, thresholds: np.ndarray):
    gt_ids = gt.read(name, ground_truth=True, num_classes=num_classes)
    pred_ids = pred.read(name, shape=gt_ids.shape)
    top = int(pred_ids.max(initial=0))
    if top > num_classes:
        raise BadInputError(f"{pred.root / name}: predicted label {top} is above {num_classes} (the PASS evaluator "
                            "cannot remap it through a match)")
    attention = read_attention(attention_path(pred.root, name), gt_ids.shape)
    return as_uint16(gt_ids), as_uint16(pred_ids), gate_levels(attention, thresholds)


def _label_chunk(gt, pred, num_classes: int, thresholds: np.ndarray, names: list[str]) -> list:
    """Per image: (ground-truth classes 1..N present, predicted labels 1..N present, the number of thresholds at
    which each of those stays present on non-ignored pixels, that is the largest gate level among its pixels)."""
    out = []
    t_count = thresholds.size
    for name in names:
        gt16, pred16, level = _read_image(gt, pred, name, num_classes, thresholds)
        gt_labels = np.flatnonzero(count_ids(gt16, num_classes + 1)[1:]) + 1
        kept = np.where(gt16 == IGNORE, 0, pred16)
        pred_labels = np.flatnonzero(count_ids(kept, num_classes + 1)[1:]) + 1
        last = np.zeros(0, np.int64)
        if pred_labels.size:
            column = np.zeros(num_classes + 1, np.intp)
            column[pred_labels] = np.arange(1, pred_labels.size + 1)
            bins = (pred_labels.size + 1) * (t_count + 1)
            key = np.take(column, kept) * (t_count + 1) + level
            hist = count_ids(key.astype(np.uint16), bins) if bins <= 2**16 else np.bincount(key.ravel(),
                                                                                             minlength=bins)
            hist = hist.reshape(pred_labels.size + 1, t_count + 1)[1:]
            last = t_count - np.argmax(hist[:, ::-1] > 0, axis=1)  # the highest level with a pixel
        out.append((gt_labels, pred_labels, last))
    return out


def cooccurrence_pairs(label_sets: list) -> tuple[np.ndarray, np.ndarray]:
    """Flatten per-image label sets (see ``_label_chunk``) into (key, stop) arrays: one entry per image and
    (predicted label r, ground-truth class j) pair, key = (r - 1) * N + (j - 1) filled in by the caller's N, stop =
    the number of thresholds for which r stays present. Returns (pred index, gt index, stop) stacked as (3, E)."""
    parts = []
    for gt_labels, pred_labels, last in label_sets:
        if gt_labels.size and pred_labels.size:
            rows = np.repeat(pred_labels - 1, gt_labels.size)
            cols = np.tile(gt_labels - 1, pred_labels.size)
            parts.append(np.stack([rows, cols, np.repeat(last, gt_labels.size)]))
    return np.concatenate(parts, axis=1) if parts else np.zeros((3, 0), np.int64)


def _match_chunk(pairs: np.ndarray, num_classes: int, ks: list[int]) -> list:
    """PASS's matching at each threshold index in ``ks``: [(k, classes of labels 0..N)]; equal co-occurrence
    matrices in a row are solved once."""
    n = num_classes
    out, previous, solved = [], None, None
    for k in ks:
        present = pairs[2] > k  # label r present at threshold index k iff its stop exceeds k
        cooc = np.bincount(pairs[0, present] * n + pairs[1, present], minlength=n * n).reshape(n, n)
        if previous is None or not np.array_equal(cooc, previous):
            match = assign(-cooc.astype(np.float64))  # PASS's cost: minus the co-occurrence, whole numbers
            solved = np.array([match[i] for i in range(n + 1)], np.int64)
            previous = cooc
        out.append((k, solved))
    return out


def sweep_matches(label_sets: list, num_classes: int, num_thresholds: int, *, workers: int | None = 1,
                  progress: bool = False) -> np.ndarray:
    """PASS's matching for every threshold, from per-image label sets (see ``_label_chunk``); the assignments
    (munkres, about 0.5 s each at 919 classes) run in ``workers`` processes.

    Returns a (T, N + 1) int64 table: row k maps predicted labels 0..N to classes under threshold k (0 -> 0).
    """
    pairs = cooccurrence_pairs(label_sets)
    table = np.zeros((num_thresholds, num_classes + 1), np.int64)
    for part in run_chunks(partial(_match_chunk, pairs, num_classes), list(range(num_thresholds)),
                           workers if num_classes >= 200 else 1, progress, "sweep: matching", "t"):
        for k, row in part:
            table[k] = row
    return table


def _threshold_joint(gt16: np.ndarray, pred16: np.ndarray, level: np.ndarray, num_thresholds: int):
    """Pixel counts of one image under every gating: (labels, prediction labels, joint (T, R, P, 2, 2)).

    ``labels`` are the ground-truth labels present (ignore dropped), ``plabels`` the predicted labels present
    (0 first, always); joint[k, r, p, g, b] counts the pixels of ground-truth row r, on the ground-truth
    boundary (g) or not, whose gated prediction at threshold index k is column p, on the gated prediction's
    boundary (b) or not.
    """
    h, w = gt16.shape
    t_count = num_thresholds
    d = boundary_width(h, w)
    kernel = np.ones((2 * d + 1, 2 * d + 1), np.uint8)
    foreground = pred16 != 0
    keep = np.where(foreground, level, 0).astype(np.uint16)  # label kept for k < keep; also "zero from" index
    ungated_edge = boundary_mask(pred16)
    start = np.where(ungated_edge | ~foreground, 0, cv2.erode(level, kernel))  # boundary from here while kept
    stop = cv2.dilate(keep, kernel)  # once gated: boundary until every window pixel is background
    stop[:d] = stop[h - d:] = t_count
    stop[:, :d] = stop[:, w - d:] = t_count

    labels = np.flatnonzero(count_ids(gt16, IGNORE + 1))
    present = count_ids(pred16, int(pred16.max(initial=0)) + 1)
    present[0] = 1
    plabels = np.flatnonzero(present)
    groups = labels.size * plabels.size * 2
    bins = groups * (t_count + 1)
    small = bins <= 2**16  # keys fit uint16: OpenCV's histogram instead of np.bincount
    dtype = np.uint16 if small else np.int64
    column = np.zeros(plabels[-1] + 1, dtype)  # premultiplied key parts, so one add builds the key
    column[plabels] = np.arange(plabels.size) * 2 * (t_count + 1)
    row = np.zeros(IGNORE + 1, dtype)
    row[labels] = np.arange(labels.size) * plabels.size * 2 * (t_count + 1)
    base = np.take(row, gt16)
    base += np.take(column, pred16)
    base += boundary_mask(gt16).view(np.uint8) * np.uint16(t_count + 1)
    cumulative = []
    for value in (start, keep, stop):  # each in 0..T, so the last cumulative bin is every pixel of the group
        key = base + value.astype(dtype, copy=False)
        hist = count_ids(key, bins) if small else np.bincount(key.ravel(), minlength=bins)
        cumulative.append(np.cumsum(hist.reshape(labels.size, plabels.size, 2, t_count + 1), axis=3))
    pixels = cumulative[0][..., t_count:]
    began, gated, ended = (c[..., :t_count] for c in cumulative)  # pixels with start <= k, keep <= k, stop <= k
    joint = np.zeros((t_count, labels.size, plabels.size, 2, 2), np.int64)
    joint[..., 0] = np.moveaxis(pixels - began, 3, 0)
    joint[..., 1] = np.moveaxis(began - gated, 3, 0)
    joint[:, :, 0, :, 1] += np.moveaxis((gated - ended).sum(axis=1), 2, 0)
    joint[:, :, 0, :, 0] += np.moveaxis(ended.sum(axis=1), 2, 0)
    valid = labels != IGNORE
    return labels[valid], plabels, joint[:, valid]


@dataclass
class SweepState:
    """Summed evaluator state for every threshold: counts (T, 2, 5, 3, N + 1) int64 as ``LUSSEvaluator.counts``,
    F-measure sums (T,), Acc hits (T,), number of images."""

    counts: np.ndarray
    f_measure_sum: np.ndarray
    acc_hits: np.ndarray
    num_images: int = 0

    def merge(self, other: SweepState) -> SweepState:
        """Add another state's images (a worker's chunk) to this one; returns ``self``."""
        self.counts += other.counts
        self.f_measure_sum += other.f_measure_sum
        self.acc_hits += other.acc_hits
        self.num_images += other.num_images
        return self

    def evaluator(self, k: int, num_classes: int) -> LUSSEvaluator:
        """The plain evaluator of threshold index ``k``."""
        return LUSSEvaluator.from_state({"num_classes": num_classes, "counts": self.counts[k],
                                         "f_measure_sum": float(self.f_measure_sum[k]),
                                         "acc_hits": int(self.acc_hits[k]), "num_images": self.num_images})


def _empty_state(num_thresholds: int, num_classes: int) -> SweepState:
    return SweepState(np.zeros((num_thresholds, 2, 5, 3, num_classes + 1), np.int64), np.zeros(num_thresholds),
                      np.zeros(num_thresholds, np.int64))


def _count_chunk(gt, pred, num_classes: int, thresholds: np.ndarray, table: np.ndarray,
                 names: list[str]) -> SweepState:
    state = _empty_state(thresholds.size, num_classes)
    for name in names:
        gt16, pred16, level = _read_image(gt, pred, name, num_classes, thresholds)
        labels, plabels, joint = _threshold_joint(gt16, pred16, level, thresholds.size)
        classes = table[:, plabels]
        # Count in the image's own class space (the classes it touches under any threshold, 0 first, in order, so
        # ties between classes break as in the full space), then add into the (T, ..., N + 1) state.
        used = np.union1d(np.union1d([0], labels[labels <= num_classes]), classes.ravel())
        compact_labels = np.where(labels <= num_classes, np.searchsorted(used, labels),
                                  used.size + labels - num_classes)
        counts, f_measure, hit = joint_counts_to_state(compact_labels, joint, np.searchsorted(used, classes),
                                                       used.size - 1)
        state.counts[..., used] += counts
        state.f_measure_sum += f_measure
        state.acc_hits += hit
        state.num_images += 1
    return state


@dataclass(frozen=True)
class SweepResult:
    """The curve: per threshold (fractions) the official metrics (percent) and the matching fitted there."""

    mode: int
    thresholds: list
    results: list  # LUSSResult per threshold
    matches: list  # {label: class} per threshold

    @property
    def best_index(self) -> int:
        """Index of the first maximum of mIoU (the lowest threshold wins a tie, as upstream's ``np.argmax``)."""
        values = [r.metrics["mIoU"] for r in self.results]
        return int(np.argmax(values))

    def to_dict(self) -> dict:
        """``{"mode", "thresholds", "curve": [{"threshold", <metric keys>}], "best": {..., "match"}}``."""
        curve = [{"threshold": t, **{key: r.metrics[key] for key in METRIC_KEYS}}
                 for t, r in zip(self.thresholds, self.results)]
        best = self.best_index
        return {"mode": self.mode, "thresholds": list(self.thresholds), "curve": curve,
                "best": {**curve[best], "match": {str(k): int(v) for k, v in sorted(self.matches[best].items())}}}


def sweep_folders(gt_dir: Any, pred_dir: Any, num_classes: int, thresholds: list[float] | None = None, *,
                  names: list[str] | None = None, workers: int | None = None,
                  progress: bool = True) -> SweepResult:
    """The PASS evaluator's threshold curve over PNG folders with ``NAME.npy`` attention maps beside the
    predictions: per threshold, gate, refit PASS's matching and compute the official metrics.

    Args:
        gt_dir: ground-truth PNG folder; pred_dir: prediction PNG folder holding the ``.npy`` maps.
        num_classes: N (50, 300, 919).
        thresholds: fractions in [0, 1] (default ``threshold_grid()``: 0.00..0.80 by 0.01), sorted here.
        names: relative mask names instead of every ground truth (upstream scans the folder).
        workers: processes (default: CPU count).
    Raises:
        BadInputError: missing predictions or attention maps, masks of different sizes, predicted labels above N.
    """
    values = sorted(threshold_grid() if thresholds is None else [float(t) for t in thresholds])
    if not values or values[0] < 0 or values[-1] > 1:
        raise BadInputError(f"thresholds must be fractions in [0, 1], got {values[:1]}..{values[-1:]}")
    gt, pred = as_source(gt_dir), as_source(pred_dir)
    if not isinstance(pred, MaskFolder):
        raise BadInputError("sweep: predictions must be a folder (the attention maps sit beside the PNGs)")
    chosen = select_images(gt, pred, names)
    thr32 = np.asarray(values, np.float32)
    label_sets: list = []
    for part in run_chunks(partial(_label_chunk, gt, pred, num_classes, thr32), chosen, workers, progress,
                           "sweep: label sets"):
        label_sets.extend(part)
    table = sweep_matches(label_sets, num_classes, len(values), workers=workers, progress=progress)
    total = _empty_state(len(values), num_classes)
    for part in run_chunks(partial(_count_chunk, gt, pred, num_classes, thr32, table), chosen, workers, progress,
                           "sweep: counts"):
        total.merge(part)
    results: list[LUSSResult] = [total.evaluator(k, num_classes).compute() for k in range(len(values))]
    matches = [{i: int(c) for i, c in enumerate(row)} for row in table]
    return SweepResult(num_classes, values, results, matches)
