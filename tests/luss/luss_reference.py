"""A deliberately literal, slow restatement of the official LUSS evaluation (../shared/specs/imagenet_s.md),
used as the test oracle for the fast implementation. NumPy (and munkres, as upstream) only; no code shared
with ``evaluators.luss``.

Per image: boundary label maps on the full image (per label value v of label + 1: binary mask, one
zero pixel of padding, d times a 3x3 erosion, boundary = mask - eroded); then pixels whose ground truth
is 1000 are dropped; histograms count values 0..K-1 (others are dropped); buckets concatenate the
ground-truth background pixels with the pixels of the bucket's classes.
"""
from __future__ import annotations

import math

import numpy as np
from munkres import Munkres


def erode3x3(mask: np.ndarray) -> np.ndarray:
    """One 3x3 binary erosion; pixels outside the array do not erode (OpenCV's default border)."""
    padded = np.pad(mask, 1, constant_values=1)
    h, w = mask.shape
    out = np.ones_like(mask)
    for dy in range(3):
        for dx in range(3):
            out &= padded[dy:dy + h, dx:dx + w]
    return out


def boundary_labels(label: np.ndarray) -> np.ndarray:
    h, w = label.shape
    d = max(1, round(0.03 * np.sqrt(h ** 2 + w ** 2)))
    shifted = label.astype(np.int64) + 1
    out = np.zeros((h, w), np.int64)
    for v in np.unique(shifted):
        mask = (shifted == v).astype(np.uint8)
        padded = np.pad(mask, 1, constant_values=0)
        for _ in range(d):
            padded = erode3x3(padded)
        out += (mask - padded[1:h + 1, 1:w + 1]).astype(np.int64) * v
    return out


def histc(values: np.ndarray, k: int) -> np.ndarray:
    values = values[(values >= 0) & (values <= k - 1)]
    return np.bincount(values.astype(np.int64), minlength=k).astype(np.float64)


def iou_counts(output: np.ndarray, target: np.ndarray, k: int):
    intersection = output[output == target]
    return histc(intersection, k), histc(output, k), histc(target, k)


def fscore(output: np.ndarray, target: np.ndarray, eps=1e-20, beta=0.3) -> float:
    t = float(np.sum(target > 0))
    p = float(np.sum(output > 0))
    tp = float(np.sum((target > 0) & (output > 0)))
    recall = tp / (t + eps)
    precision = tp / (p + eps)
    return (1 + beta) * precision * recall / (beta * precision + recall + eps)


def class_size(count: int, total: int) -> int:
    # upstream computes this in float32 (CUDA tensors)
    return math.ceil(float(np.float32(np.float32(count) * np.float32(100.0)) / np.float32(total)))


def evaluate(pairs, num_classes: int) -> dict:
    """Official metrics (percent) of [(gt, pred), ...] with raw predicted ids."""
    k = num_classes + 1
    T, P, TP = np.zeros(k), np.zeros(k), np.zeros(k)
    BT, BP, BTP = np.zeros(k), np.zeros(k), np.zeros(k)
    Ts, Ps, TPs = [np.zeros(k) for _ in range(4)], [np.zeros(k) for _ in range(4)], [np.zeros(k) for _ in range(4)]
    BTs, BPs, BTPs = [np.zeros(k) for _ in range(4)], [np.zeros(k) for _ in range(4)], [np.zeros(k) for _ in range(4)]
    f_sum, acc = 0.0, 0.0
    for gt, pred in pairs:
        gt_b, pred_b = boundary_labels(gt), boundary_labels(pred)
        keep = gt != 1000
        g, p, gb, pb = gt[keep], pred[keep], gt_b[keep], pred_b[keep]
        inter, out, tgt = iou_counts(p, g, k)
        b_inter, b_out, b_tgt = iou_counts(pb, gb, k + 1)
        T += out
        P += tgt
        TP += inter
        BT += b_out[1:]
        BP += b_tgt[1:]
        BTP += b_inter[1:]
        counts = np.bincount(g, minlength=1)
        buckets = [[], [], [], []]
        for c in np.unique(g):
            if c == 0:
                continue
            size = class_size(int(counts[c]), int(counts.sum()))
            buckets[0 if size <= 5 else 1 if size <= 25 else 2 if size <= 50 else 3].append(c)
        for i, classes in enumerate(buckets):
            if not classes:
                continue
            sel = [g == 0] + [g == c for c in classes]
            gs, ps = np.concatenate([g[s] for s in sel]), np.concatenate([p[s] for s in sel])
            gbs, pbs = np.concatenate([gb[s] for s in sel]), np.concatenate([pb[s] for s in sel])
            inter, out, tgt = iou_counts(ps, gs, k)
            Ts[i] += out
            Ps[i] += tgt
            TPs[i] += inter
            inter, out, tgt = iou_counts(pbs, gbs, k + 1)
            BTs[i] += out[1:]
            BPs[i] += tgt[1:]
            BTPs[i] += inter[1:]
        f_sum += fscore(p, g)
        region_pred = histc(p, k)
        top = int(np.argmax(region_pred[1:])) + 1
        acc += float(histc(g, k)[top] > 0 and region_pred[top] > 0)
    n = len(pairs)
    iou = TP / (T + P - TP + 1e-10)
    biou = BTP / (BT + BP - BTP + 1e-10)
    result = {"mIoU": float(np.mean(iou)) * 100, "Acc": acc / n * 100, "mBIoU": float(np.mean(biou)) * 100,
              "FMeasure": f_sum / n * 100, "IoUs": list(iou * 100)}
    for i, name in enumerate(("S", "MS", "ML", "L")):
        present = Ps[i] > 0
        result[name] = float(np.mean((TPs[i] / (Ts[i] + Ps[i] - TPs[i] + 1e-10))[present])) * 100 \
            if present.any() else math.nan
        present = BPs[i] > 0
        result["B" + name] = float(np.mean((BTPs[i] / (BTs[i] + BPs[i] - BTPs[i] + 1e-10))[present])) * 100 \
            if present.any() else math.nan
    return result


def cost_matrix(gt_sets, pred_sets, num_classes: int) -> list:
    """The official matching cost (``evaluation/hungarian.py``): a float32 matrix filled by a literal double loop
    (rows: predicted labels), as the nested list of Python floats handed to munkres."""
    n = len(gt_sets)
    matrix = np.zeros(shape=(num_classes, num_classes), dtype=np.float32)
    for i in range(num_classes):
        for j in range(num_classes):
            together = sum(1 for g, p in zip(gt_sets, pred_sets) if (i + 1) in p and (j + 1) in g)
            matrix[i][j] = 1.0 - 1.0 * together / n
    return matrix.tolist()


def official_match(gt_sets, pred_sets, num_classes: int) -> dict:
    """The official matching {predicted label: class} of per-image label sets (1-based), 0 -> 0 included."""
    pairs = Munkres().compute(cost_matrix(gt_sets, pred_sets, num_classes))
    return {0: 0, **{row + 1: column + 1 for row, column in pairs}}
