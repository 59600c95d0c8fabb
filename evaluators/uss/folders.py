"""Scoring a ground-truth tree against a prediction tree in a process pool (workers return partial evaluators)."""
from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from evaluators.luss.state import merge_states, save_state
from evaluators.uss.datasets import GroundTruthTree, PredictionTree, Preset, preset
from evaluators.uss.metrics import USSEvaluator, USSResult
from plumbing.errors import BadInputError
from plumbing.jobs import run_chunks, take_shard


def read_names(path: str | os.PathLike) -> list[str]:
    """The non-empty lines of a names list (relative paths, file names or ids such as ``000000000139``).

    Raises:
        BadInputError: the file is missing or empty."""
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except FileNotFoundError:
        raise BadInputError(f"--names {path}: no such file") from None
    names = [line for line in lines if line]
    if not names:
        raise BadInputError(f"--names {path}: empty list")
    return names


def _keys(name: str, spec: Preset) -> tuple[str, ...]:
    """What a list entry may say for ground truth ``name``: its path, file name, or either without the suffix."""
    base = name.rsplit("/", 1)[-1]
    short = next((base[:-len(p)] for p in spec.pattern if base.endswith(p)), base)
    return name, base, short, name[:len(name) - len(base)] + short


def select_images(gt: GroundTruthTree, pred: PredictionTree, names: list[str] | None = None,
                  shard: tuple[int, int] | None = None) -> list[str]:
    """The evaluated ground-truth names (every one, or those ``names`` lists), each with a prediction, then the
    shard's part.

    Raises:
        BadInputError: no ground truth, listed names without ground truth, or missing predictions (how many, the
            first few)."""
    all_names = gt.names()
    if names is not None:
        index = {}
        for name in all_names:
            for key in _keys(name, gt.spec):
                index.setdefault(key, name)
        absent = [n for n in names if n not in index]
        if absent:
            raise BadInputError(f"names list: {len(absent)} of {len(names)} listed images have no ground truth "
                                f"under {gt}, first: {', '.join(absent[:5])}")
        all_names = sorted({index[n] for n in names})
    if not all_names:
        raise BadInputError(f"--gt-dir {gt}: no {gt.spec.name} ground truth ({' or '.join(gt.spec.pattern)} files)")
    missing = [n for n in all_names if pred.path(n) is None]
    if missing:
        raise BadInputError(f"--pred-dir {pred}: {len(missing)} of {len(all_names)} predictions missing, first: "
                            f"{', '.join(missing[:5])}")
    return take_shard(all_names, shard)


def _chunk(gt: GroundTruthTree, pred: PredictionTree, clusters: int, names: list[str]) -> USSEvaluator:
    ev = USSEvaluator(gt.spec.num_classes, clusters, things=gt.spec.things)
    for name in names:
        truth = gt.read(name)
        guess = pred.read(name, truth.shape)
        low, high = int(guess.min()), int(guess.max())
        if low < 0 or high >= clusters:
            raise BadInputError(f"{pred.path(name)}: cluster id {low if low < 0 else high} is not in 0..{clusters - 1}"
                                " (give --clusters K)")
        ev.update(truth, guess, validate=False)
    return ev


def accumulate_tree(dataset: str, gt_dir: str | os.PathLike, pred_dir: str | os.PathLike,
                    clusters: int | None = None, *, names: list[str] | None = None,
                    shard: tuple[int, int] | None = None, workers: int | None = None,
                    progress: bool = True) -> USSEvaluator:
    """The evaluator state over the selected images (see ``evaluate_tree``)."""
    spec = preset(dataset)
    clusters = spec.num_classes if clusters is None else int(clusters)
    total = USSEvaluator(spec.num_classes, clusters, things=spec.things)
    gt, pred = GroundTruthTree(gt_dir, spec), PredictionTree(pred_dir)
    chosen = select_images(gt, pred, names, shard)
    for part in run_chunks(partial(_chunk, gt, pred, clusters), chosen, workers, progress, "evaluate"):
        total.merge(part)
    return total


def evaluate_tree(dataset: str, gt_dir: str | os.PathLike, pred_dir: str | os.PathLike,
                  clusters: int | None = None, *, matching: str = "pixel-hungarian", mean: str = "nan-skip",
                  extra: str = "drop", names: list[str] | None = None, shard: tuple[int, int] | None = None,
                  workers: int | None = None, progress: bool = True) -> USSResult:
    """Score predicted cluster maps against a dataset's ground truth with the USS protocol.

    Args:
        dataset: a preset (``cocostuff27``, ``cocostuff171``, ``cityscapes27``, ``potsdam3``).
        gt_dir: ground truth in the dataset's own format; pred_dir: predictions at the same relative paths.
        clusters: K >= C (default C).
        matching, mean, extra: see ``evaluators.uss.metrics`` (defaults: STEGO's protocol).
        names: images to evaluate (paths, file names or ids) instead of every ground truth.
        shard: (K, N) to evaluate only shard K of N; workers: processes (default: CPU count).
    Raises:
        BadInputError: unknown preset, missing or unreadable files, values outside the dataset or the clusters.
    """
    spec = preset(dataset)
    ev = accumulate_tree(dataset, gt_dir, pred_dir, clusters, names=names, shard=shard, workers=workers,
                         progress=progress)
    return ev.compute(matching, mean, extra, class_names=spec.names, dataset=dataset)


def save_tree_state(path: str | os.PathLike, evaluator: USSEvaluator, dataset: str,
                    shard: tuple[int, int] | None = None) -> Path:
    """Write a (shard's) evaluator state for ``merge_tree_states`` (``.npz``, no pickles; ``evaluators.luss.state``),
    with its preset, so that shards of different presets are never merged."""
    return save_state(path, evaluator, shard=shard, info={"dataset": dataset})


def merge_tree_states(paths: list[str | os.PathLike]) -> tuple[USSEvaluator, str]:
    """Merge the shard states of one ``uss evaluate --shard`` run: (merged evaluator, dataset preset).

    Raises:
        BadInputError: unreadable states, mixed presets, clusters or runs, repeated shards (missing: a warning)."""
    merged, meta = merge_states(list(paths), {USSEvaluator.STATE_KIND: USSEvaluator})
    dataset = (meta.get("info") or {}).get("dataset")
    preset(dataset)  # a state written by hand without a preset is refused here
    return merged, dataset
