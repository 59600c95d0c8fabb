"""Scoring and matching mask folders (or any mask source) in a process pool.

A mask source has ``names()`` (sorted relative names such as ``n01443537/ILSVRC2012_val_00000236.png``)
and ``read(name, ground_truth=False, shape=None, num_classes=None)`` returning int32 ids; ``MaskFolder`` is the one for
folders, ``imagenet_s.submission`` has one for zip archives. Work is split into chunks; each worker
returns a small partial state (an evaluator or a co-occurrence counter) that the parent merges.
"""
from __future__ import annotations

import os
from functools import partial
from typing import Any, Protocol

import numpy as np

from evaluators.luss.masks import MaskFolder, pair_names
from evaluators.luss.matching import MatchCounter, label_sets, match_lookup, read_match
from evaluators.luss.metrics import LUSSEvaluator, LUSSResult
from plumbing.jobs import run_chunks, take_shard


class MaskSource(Protocol):
    """What the scoring reads masks from: sorted relative ``names()`` and ``read(name)`` of one mask as an
    int32 (H, W) array of ids (``MaskFolder``, ``imagenet_s.submission.ZipMasks``)."""

    def names(self) -> list[str]:
        """Sorted relative names of the masks, e.g. ``n01443537/ILSVRC2012_val_00000236.png``."""

    def read(self, name: str, *, ground_truth: bool = False, shape: tuple | None = None,
             num_classes: int | None = None) -> np.ndarray:
        """Mask ``name`` as int32 (H, W) class ids; ``ground_truth`` refuses ids outside 0..``num_classes`` and
        1000 (``masks.check_ground_truth``), ``shape`` (H, W) requires that size. Raises BadInputError for a
        missing or unreadable mask."""


def as_source(source: Any) -> MaskSource:
    """A ``MaskFolder`` for a path (BadInputError if it is not a folder); any other object is taken to be a
    mask source and returned as is."""
    return MaskFolder(source) if isinstance(source, (str, os.PathLike)) else source


def select_images(gt: MaskSource, pred: MaskSource, names: list[str] | None = None,
                  shard: tuple[int, int] | None = None) -> list[str]:
    """The sorted evaluated names (all ground truths, or ``names``), each checked to have a prediction,
    then the shard's part."""
    chosen = pair_names(gt.names(), pred.names(), None if names is None else sorted(set(names)), str(pred))
    return take_shard(chosen, shard)


def _evaluate_chunk(gt: MaskSource, pred: MaskSource, num_classes: int, lookup: np.ndarray | None,
                    names: list[str]) -> LUSSEvaluator:
    evaluator = LUSSEvaluator(num_classes)
    for name in names:
        gt_ids = gt.read(name, ground_truth=True, num_classes=num_classes)
        pred_ids = pred.read(name, shape=gt_ids.shape)
        if lookup is not None:
            pred_ids = np.take(lookup, pred_ids)
        evaluator.update(gt_ids, pred_ids, validate=False)
    return evaluator


def _match_chunk(gt: MaskSource, pred: MaskSource, num_classes: int, names: list[str]) -> MatchCounter:
    counter = MatchCounter(num_classes)
    for name in names:
        gt_ids = gt.read(name, ground_truth=True, num_classes=num_classes)
        counter.add_label_sets(*label_sets(gt_ids, pred.read(name, shape=gt_ids.shape), num_classes))
    return counter


def accumulate_evaluation(gt_dir: Any, pred_dir: Any, num_classes: int, match: Any = None, *,
                          names: list[str] | None = None, shard: tuple[int, int] | None = None,
                          workers: int | None = None, progress: bool = True) -> LUSSEvaluator:
    """The evaluator state over the selected images (see ``evaluate_folders``); merge shards with ``merge``."""
    gt, pred = as_source(gt_dir), as_source(pred_dir)
    if isinstance(match, (str, os.PathLike)):
        match = read_match(match, num_classes)
    chosen = select_images(gt, pred, names, shard)
    task = partial(_evaluate_chunk, gt, pred, num_classes, match_lookup(match))
    total = LUSSEvaluator(num_classes)
    for part in run_chunks(task, chosen, workers, progress, "evaluate"):
        total.merge(part)
    return total


def evaluate_folders(gt_dir: Any, pred_dir: Any, num_classes: int, match: Any = None, *,
                     names: list[str] | None = None, shard: tuple[int, int] | None = None,
                     workers: int | None = None, progress: bool = True) -> LUSSResult:
    """Score predicted masks against ground-truth masks with the official LUSS metrics.

    Args:
        gt_dir, pred_dir: folders of RGB PNG masks (or mask sources); every ground truth (or every entry
            of ``names``) needs a prediction at the same relative path.
        num_classes: N (50, 300 or 919).
        match: None (predictions already use class ids), a {label: class} dict or a match file path;
            predicted labels missing from it count for no class.
        names: relative mask names to evaluate instead of every ground truth.
        shard: (K, N) to evaluate only shard K of N.
        workers: processes (default: CPU count).
    Raises:
        BadInputError: missing predictions, unreadable or mismatched masks, an invalid match.
    """
    return accumulate_evaluation(gt_dir, pred_dir, num_classes, match, names=names, shard=shard,
                                 workers=workers, progress=progress).compute()


def accumulate_matching(gt_dir: Any, pred_dir: Any, num_classes: int, *, names: list[str] | None = None,
                        shard: tuple[int, int] | None = None, workers: int | None = None,
                        progress: bool = True) -> MatchCounter:
    """The co-occurrence counts behind the official matching over the selected images."""
    gt, pred = as_source(gt_dir), as_source(pred_dir)
    chosen = select_images(gt, pred, names, shard)
    total = MatchCounter(num_classes)
    for part in run_chunks(partial(_match_chunk, gt, pred, num_classes), chosen, workers, progress, "match"):
        total.merge(part)
    return total


def match_folders(gt_dir: Any, pred_dir: Any, num_classes: int, **options) -> dict[int, int]:
    """The official Hungarian matching {predicted label: class} fitted on the predictions themselves."""
    return accumulate_matching(gt_dir, pred_dir, num_classes, **options).match()
