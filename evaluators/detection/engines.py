"""Running a ``Problem`` through hotcoco (default, Rust) or pycocotools (reference).

Both return pycocotools' accumulated arrays over the virtual category axis: precision ``[T, R, V, A, M]`` and
recall ``[T, V, A, M]`` (-1 where a category has no ground truth).

pycocotools records the matched ground-truth *id* per detection and treats id 0 as "unmatched", so
a detection matched to a box with id 0 counts as a false positive (or is ignored when outside the
area range). The ``official`` protocol keeps that: the matching itself is unaffected, so we patch
the recorded matches of the id-0 copies after ``evaluate()``. hotcoco matches id 0 normally, so
with hotcoco the few virtual categories that hold an id-0 box are re-scored with pycocotools.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, replace

import hotcoco
import numpy as np

from evaluators.detection.presets import AREA_LABELS, Preset
from evaluators.detection.problem import Problem
from plumbing.errors import UnknownNameError

BACKENDS = ("hotcoco", "pycocotools")


@dataclass(frozen=True)
class Accumulated:
    """pycocotools' accumulated arrays over virtual categories (COCOeval.accumulate's ``eval``):
    ``precision`` float64 ``[T, R, V, A, M]`` (IoU thresholds, 101 recall thresholds, virtual categories, area
    ranges, max-detection limits) and ``recall`` float64 ``[T, V, A, M]``; -1 where a category has no ground truth."""
    precision: np.ndarray  # [T, R, V, A, M]
    recall: np.ndarray  # [T, V, A, M]


def run_engine(problem: Problem, preset: Preset, backend: str, vcats: np.ndarray) -> Accumulated:
    """Accumulated arrays of the virtual categories ``vcats`` (sorted), in that order."""
    # hotcoco keys area ranges by value, so equal ranges are evaluated once and copied back.
    distinct = tuple(dict.fromkeys(preset.area_ranges))
    if len(distinct) < len(preset.area_ranges):
        acc = run_engine(problem, replace(preset, area_ranges=distinct), backend, vcats)
        at = [distinct.index(a) for a in preset.area_ranges]
        return Accumulated(acc.precision[:, :, :, at], acc.recall[:, :, at])
    problem = subset(problem, vcats)
    if backend == "pycocotools":
        return _pycocotools(problem, preset, vcats)
    if backend != "hotcoco":
        raise UnknownNameError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    acc = _hotcoco(problem, preset, vcats)
    quirky = np.unique(problem.gt_vcat[problem.id0_gt]) if problem.id0_gt.any() else ()  # (np.unique imports numpy.ma)
    if len(quirky):
        # Only area ranges holding an id-0 box differ: elsewhere that box is ignored, and so is its match.
        id0_areas = problem.gt_areas[problem.id0_gt]
        areas = [a for a, (lo, hi) in enumerate(preset.area_ranges) if ((id0_areas >= lo) & (id0_areas <= hi)).any()]
        sub = _pycocotools(subset(problem, quirky), replace(preset, area_ranges=tuple(preset.area_ranges[a]
                                                                                      for a in areas)), quirky)
        at = np.searchsorted(vcats, quirky)
        for j, a in enumerate(areas):
            acc.precision[:, :, at, a] = sub.precision[:, :, :, j]
            acc.recall[:, at, a] = sub.recall[:, :, j]
    return acc


def hotcoco_eval(problem: Problem, preset: Preset, vcats: np.ndarray):
    """An evaluated (not yet accumulated) hotcoco ``COCOeval`` of the problem's categories ``vcats``."""
    images = [{"id": int(i), "width": 0, "height": 0} for i in problem.image_ids]
    cats = [{"id": int(v), "name": str(v)} for v in vcats]
    gt = hotcoco.COCO.from_arrays(images, cats, problem.gt_image, problem.gt_vcat, problem.gt_boxes,
                                  ids=np.arange(1, len(problem.gt_image) + 1), area=problem.gt_areas,
                                  iscrowd=problem.gt_crowd.astype(np.int64))
    # image, x, y, w, h, score, category: what load_res reads; column-major, as load_res reads it fastest that way
    rows = np.empty((len(problem.dt_image), 7), order="F")
    rows[:, 0], rows[:, 1:5], rows[:, 5], rows[:, 6] = problem.dt_image, problem.dt_boxes, problem.dt_scores, \
        problem.dt_vcat
    dt = gt.load_res(rows)
    del rows
    ev = hotcoco.COCOeval(gt, dt, "bbox")
    p = ev.params
    p.img_ids = problem.image_ids.tolist()
    p.cat_ids = [int(v) for v in vcats]
    p.iou_thrs = list(preset.iou_thrs)
    p.max_dets = list(preset.max_dets)
    p.area_rng = [list(a) for a in preset.area_ranges]
    p.area_rng_lbl = list(AREA_LABELS)
    ev.params = p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hotcoco warns that non-COCO limits/areas are not COCO's
        ev.evaluate()
    return ev


def _hotcoco(problem: Problem, preset: Preset, vcats: np.ndarray) -> Accumulated:
    ev = hotcoco_eval(problem, preset, vcats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ev.accumulate()
    e = ev.eval
    return Accumulated(np.array(e["precision"]), np.array(e["recall"]))


def subset(problem: Problem, vcats: np.ndarray) -> Problem:
    """The part of the problem in the given virtual categories (sorted; order kept): the problem itself when that is
    all of it, slices (no copies) when they are whole buckets, as rows are in bucket order."""
    wanted = np.zeros(problem.num_vcats, bool)
    wanted[vcats] = True
    if wanted.all():
        return problem
    K = len(problem.cat_ids)
    first, end = (int(vcats[0]), int(vcats[-1]) + 1) if len(vcats) else (0, 0)
    if first < end and first % K == 0 and end % K == 0 and wanted[first:end].all():
        buckets = [first // K, end // K]
        g, d = (slice(*np.searchsorted(vcat // K, buckets)) for vcat in (problem.gt_vcat, problem.dt_vcat))
    else:
        g, d = wanted[problem.gt_vcat], wanted[problem.dt_vcat]
    return replace(problem, gt_image=problem.gt_image[g], gt_vcat=problem.gt_vcat[g], gt_boxes=problem.gt_boxes[g],
                   gt_areas=problem.gt_areas[g], gt_crowd=problem.gt_crowd[g], id0_gt=problem.id0_gt[g],
                   dt_image=problem.dt_image[d], dt_vcat=problem.dt_vcat[d], dt_boxes=problem.dt_boxes[d],
                   dt_scores=problem.dt_scores[d])


def _pycocotools(problem: Problem, preset: Preset, vcats: np.ndarray) -> Accumulated:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    # Images without a box or detection here have no record: leaving them out changes nothing.
    image_ids = np.intersect1d(problem.image_ids, np.concatenate([problem.gt_image, problem.dt_image]))
    images = [{"id": int(i)} for i in image_ids]
    cats = [{"id": int(v)} for v in vcats]
    gt_anns = [{"id": n + 1, "image_id": i, "category_id": c, "bbox": b, "area": a, "iscrowd": int(z)}
               for n, (i, c, b, a, z) in enumerate(zip(problem.gt_image.tolist(), problem.gt_vcat.tolist(),
                                                       problem.gt_boxes.tolist(), problem.gt_areas.tolist(),
                                                       problem.gt_crowd.tolist()))]
    # The fields pycocotools' loadRes derives for box results: id from 1, area w*h, not crowd.
    dt_anns = [{"id": n + 1, "image_id": i, "category_id": c, "bbox": b, "score": s, "area": b[2] * b[3],
                "iscrowd": 0}
               for n, (i, c, b, s) in enumerate(zip(problem.dt_image.tolist(), problem.dt_vcat.tolist(),
                                                    problem.dt_boxes.tolist(), problem.dt_scores.tolist()))]
    with contextlib.redirect_stdout(io.StringIO()):
        gt, dt = COCO(), COCO()
        gt.dataset = {"images": images, "categories": cats, "annotations": gt_anns}
        dt.dataset = {"images": images, "categories": cats, "annotations": dt_anns}
        gt.createIndex()
        dt.createIndex()
        ev = COCOeval(gt, dt, "bbox")
        p = ev.params
        p.imgIds = image_ids.tolist()
        p.catIds = [int(v) for v in vcats]
        p.iouThrs = np.array(preset.iou_thrs)
        p.maxDets = list(preset.max_dets)
        p.areaRng = [list(a) for a in preset.area_ranges]
        p.areaRngLbl = list(AREA_LABELS)
        ev.evaluate()
        _unmatch_id0(ev, np.flatnonzero(problem.id0_gt) + 1, set(problem.gt_image[problem.id0_gt].tolist()))
        ev.accumulate()
    e = ev.eval
    return Accumulated(e["precision"], e["recall"])


def _unmatch_id0(ev, id0_ids: np.ndarray, id0_images: set) -> None:
    """Record matches to the copies of an id-0 box as pycocotools records id 0: no match."""
    for e in ev.evalImgs:
        if e is None or e["image_id"] not in id0_images or not len(e["dtIds"]):
            continue
        hit = np.isin(e["dtMatches"], id0_ids)
        if hit.any():
            lo, hi = e["aRng"]
            areas = np.array([ev.cocoDt.anns[i]["area"] for i in e["dtIds"]])
            outside = (areas < lo) | (areas > hi)
            e["dtIgnore"] = np.where(hit, e["dtIgnore"] | outside[None, :], e["dtIgnore"])
            e["dtMatches"] = np.where(hit, 0, e["dtMatches"])
