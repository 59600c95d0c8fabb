"""The evaluation problem: ground truth and detections laid out on a (bucket x class) category axis.

Upstream's AODRawMetric is a pycocotools COCOeval whose per-image records are keyed by
(image, class, condition tag). We build the same thing as a plain COCO problem whose "virtual
category" is ``bucket * K + class_index``: one ordinary evaluation (IoUs and matches once) then
gives precision/recall for every bucket, and the per-image lists hold exactly what upstream's do,
in the same order (file order, copies adjacent), so even ties resolve identically:

* every box and detection of an image appears in each bucket of the image, as many times as the
  protocol's multiplicity says (2 for a single-tag image in its tag's bucket, officially);
* boxes of the ignore category become crowd boxes of every class that has detections in that
  image (after the class's own boxes), and the ignore category is not scored.

Images are numbered by their rank among the sorted image ids (``evaluators.detection.ids.codes``): the engines see
only that dense range, never an id itself, so ids of any size or type are scored exactly, in pycocotools' order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluators.detection.conditions import bucket_names, image_buckets
from evaluators.detection.ids import codes
from evaluators.detection.presets import Preset
from evaluators.detection.validate import Detections, GroundTruth
from plumbing.errors import warn


@dataclass(frozen=True)
class Problem:
    """Ground truth and detections as one plain COCO problem on the virtual-category axis
    (``bucket * K + class_index``), images numbered 0..I-1 by rank of their sorted ids (see the module docstring).

    Boxes are ``(N, 4)`` / ``(D, 4)`` float64 x y w h in pixels; ``gt_vcat``/``dt_vcat`` int64 virtual categories,
    ``gt_areas`` float64 (the file's ``area``), ``dt_scores`` float64. Rows are in bucket order (``vcat // K`` never
    decreases), each category's rows in the order described above, so that whole buckets are a slice."""
    buckets: list  # bucket names; bucket b owns virtual categories b*K .. b*K+K-1
    cat_ids: np.ndarray  # (K,) scored class ids (exact), sorted
    cat_keys: list  # their keys in per-category results (GroundTruth.cat_keys)
    bucket_images: np.ndarray  # (B,) distinct images per bucket
    image_ids: np.ndarray  # (I,) 0 .. I-1: each image's rank among the sorted image ids
    gt_image: np.ndarray  # (N,) int64 image ranks
    gt_vcat: np.ndarray
    gt_boxes: np.ndarray  # (N, 4)
    gt_areas: np.ndarray
    gt_crowd: np.ndarray  # bool
    id0_gt: np.ndarray  # (N,) bool: copies of an original non-crowd box with id 0 (pycocotools' quirk)
    dt_image: np.ndarray  # (D,)
    dt_vcat: np.ndarray
    dt_boxes: np.ndarray
    dt_scores: np.ndarray

    @property
    def num_vcats(self) -> int:
        """Number of virtual categories: buckets x scored classes (B * K)."""
        return len(self.buckets) * len(self.cat_ids)


def build_problem(gt: GroundTruth, dt: Detections, preset: Preset, protocol: str) -> Problem:
    """Lay out ``gt`` and ``dt`` on the (bucket x class) axis as upstream AODRawMetric's per-image records.

    Classes are the ground truth's categories in id order without ``preset.ignore_category``; buckets and
    multiplicities come from each image's ``tag`` list under ``protocol`` (``official`` or ``corrected``). Warns
    (InputWarning) about images without tags and ignore boxes with ``iscrowd=0``."""
    cat_order = np.argsort(gt.cat_ids, kind="stable")
    ignored = np.array([gt.cat_names[c] == preset.ignore_category for c in cat_order], bool)
    class_of = np.where(ignored, -1, np.cumsum(~ignored) - 1)  # class index of each category in id order
    scored = cat_order[~ignored]
    K = len(scored)

    untagged = sum(t is None for t in gt.image_tags)
    if untagged and (untagged < len(gt.image_tags) or preset.ignore_category):
        warn(f"{gt.source}: {untagged} of {len(gt.image_tags)} images have no 'tag' list; they count only in 'all'")
    buckets_of = {}  # image_buckets per distinct tag list
    for tags in gt.image_tags:
        key = tuple(tags or ())
        if key not in buckets_of:
            buckets_of[key] = image_buckets(tags, protocol)
    per_image = [(tags, buckets_of[tuple(tags or ())]) for tags in gt.image_tags]
    buckets = bucket_names(per_image)
    bucket_index = {name: b for b, name in enumerate(buckets)}
    # "units": one per (image, bucket, copy), grouped by image in file order.
    unit_bucket = np.array([bucket_index[name] for _, bk in per_image for name, m in bk.items() for _ in range(m)],
                           np.int64)
    unit_count = np.array([sum(bk.values()) for _, bk in per_image], np.int64)
    unit_start = np.cumsum(unit_count) - unit_count
    bucket_images = np.bincount(np.array([bucket_index[name] for _, bk in per_image for name in bk], np.int64),
                                minlength=len(buckets))

    # Units indexed by image rank (position among the sorted ids) rather than by file row.
    order = np.argsort(gt.image_ids, kind="stable")
    sorted_images = gt.image_ids[order]
    unit_start, unit_count = unit_start[order], unit_count[order]
    single = bool((unit_count == 1).all())  # no copies: each box and detection appears once, in its only bucket

    def expand(ranks: np.ndarray):
        """Repeat each source row once per unit of its image: (source index, bucket of the copy); the source index
        is None when it would be every row once, in order."""
        if single:
            return None, unit_bucket[unit_start[ranks]]
        counts = unit_count[ranks]
        src = np.repeat(np.arange(len(ranks)), counts)
        offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return src, unit_bucket[np.repeat(unit_start[ranks], counts) + offset]

    sorted_cats = gt.cat_ids[cat_order]
    # Detections of scored classes (detections of the ignore category are never scored).
    dt_cls = class_of[codes(dt.cat_ids, sorted_cats)]
    keep = dt_cls >= 0
    keep = None if keep.all() else np.flatnonzero(keep)  # None: every detection
    d_ranks = codes(_take(dt.image_ids, keep), sorted_images)
    d_cls = _take(dt_cls, keep)
    src, b = expand(d_ranks)
    if len(buckets) > 1:
        order_b = _bucket_order(b, len(buckets))
        src, b = (order_b if src is None else src[order_b]), b[order_b]
    d_sel = src if keep is None else _take(keep, src)

    # Regular boxes of scored classes, then ignore regions copied into every class detected in the image.
    ann_cls = class_of[codes(gt.ann_cat_ids, sorted_cats)]
    ann_ranks = codes(gt.ann_image_ids, sorted_images)
    regular = ann_cls >= 0
    g_src, g_b = expand(ann_ranks[regular])
    g_sel = _take(np.flatnonzero(regular), g_src)
    g_cls = ann_cls[g_sel]

    ignore = np.flatnonzero(~regular)
    if len(ignore) and not gt.ann_crowd[ignore].all():
        warn(f"{gt.source}: {int((~gt.ann_crowd[ignore]).sum())} '{preset.ignore_category}' boxes have "
             "iscrowd=0; ignore regions are always treated as crowd boxes")
    i_sel, i_cls, i_b = _ignore_copies(ignore, ann_ranks[ignore], d_ranks, d_cls, expand)

    sel = np.concatenate([g_sel, i_sel])
    id0 = np.zeros(len(sel), bool)
    if protocol == "official":  # pycocotools tests the id's truth: 0, never "0"
        id0[: len(g_sel)] = np.asarray(gt.ann_ids[g_sel] == 0, bool) & ~gt.ann_crowd[g_sel]
    gt_b, gt_cls = np.concatenate([g_b, i_b]), np.concatenate([g_cls, i_cls])
    gt_crowd = np.concatenate([gt.ann_crowd[g_sel], np.ones(len(i_sel), bool)])
    if len(buckets) > 1:
        order_b = _bucket_order(gt_b, len(buckets))
        sel, id0, gt_b, gt_cls, gt_crowd = sel[order_b], id0[order_b], gt_b[order_b], gt_cls[order_b], \
            gt_crowd[order_b]
    return Problem(
        buckets=buckets, cat_ids=gt.cat_ids[scored], cat_keys=[gt.cat_keys[c] for c in scored.tolist()],
        bucket_images=bucket_images, image_ids=np.arange(len(order)),
        gt_image=ann_ranks[sel], gt_vcat=gt_b * K + gt_cls, gt_boxes=gt.ann_boxes[sel], gt_areas=gt.ann_areas[sel],
        gt_crowd=gt_crowd, id0_gt=id0,
        dt_image=_take(d_ranks, src), dt_vcat=b * K + _take(d_cls, src), dt_boxes=_take(dt.boxes, d_sel),
        dt_scores=_take(dt.scores, d_sel))


def _bucket_order(buckets: np.ndarray, count: int) -> np.ndarray:
    """The stable order of rows by bucket (keys narrowed to ``count`` values, which NumPy sorts by radix)."""
    return np.argsort(buckets.astype(np.min_scalar_type(count)), kind="stable")


def _take(values: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    """``values[index]``; ``values`` itself, uncopied, when ``index`` is None (every row, in order)."""
    return values if index is None else values[index]


def _ignore_copies(ignore: np.ndarray, ignore_ranks: np.ndarray, d_ranks: np.ndarray, d_cls: np.ndarray, expand):
    """Copies of each ignore box (file order) into each class detected in its image, each copied per unit."""
    if not len(ignore) or not len(d_ranks):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    num_classes = int(d_cls.max()) + 1
    keys = np.unique(d_ranks * num_classes + d_cls)  # (image rank, class) pairs with detections, sorted
    pair_rank, pair_cls = keys // num_classes, keys % num_classes
    first = np.searchsorted(pair_rank, ignore_ranks, "left")
    count = np.searchsorted(pair_rank, ignore_ranks, "right") - first
    src = np.repeat(np.arange(len(ignore)), count)
    pair = np.repeat(first, count) + np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    u_src, u_b = expand(ignore_ranks[src])
    return _take(ignore[src], u_src), _take(pair_cls[pair], u_src), u_b
