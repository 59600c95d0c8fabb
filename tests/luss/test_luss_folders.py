"""Scoring PNG folders in a process pool, shards and their state files."""
from __future__ import annotations

import numpy as np
import pytest
from luss_data import save_mask

from evaluators.luss import (
    LUSSEvaluator,
    MatchCounter,
    accumulate_evaluation,
    accumulate_matching,
    evaluate_folders,
    load_state,
    match_folders,
    merge_states,
    save_state,
)
from plumbing.errors import BadInputError, InputWarning
from plumbing.jobs import parse_shard, take_shard


def in_memory(pairs, num_classes, lookup=None):
    evaluator = LUSSEvaluator(num_classes)
    for gt, pred in pairs:
        evaluator.update(gt, pred if lookup is None else np.take(lookup, pred))
    return evaluator


def test_folders_score_like_the_arrays_with_one_or_two_workers(folders):
    gt_dir, pred_dir, _names, pairs = folders
    expected = in_memory(pairs, 5)
    for workers in (1, 2):
        result = evaluate_folders(gt_dir, pred_dir, 5, workers=workers, progress=False)
        assert result.num_images == 12
        assert result.metrics == pytest.approx(expected.compute().metrics, nan_ok=True)
        np.testing.assert_array_equal(
            accumulate_evaluation(gt_dir, pred_dir, 5, workers=workers, progress=False).counts, expected.counts)


def test_match_folders_equals_the_counter_over_arrays_and_applies(folders, tmp_path):
    gt_dir, pred_dir, _names, pairs = folders
    counter = MatchCounter(5)
    for gt, pred in pairs:
        counter.update(gt, pred)
    match = match_folders(gt_dir, pred_dir, 5, workers=2, progress=False)
    assert match == counter.match()
    fitted = evaluate_folders(gt_dir, pred_dir, 5, match, workers=2, progress=False)
    raw = evaluate_folders(gt_dir, pred_dir, 5, workers=1, progress=False)
    assert fitted.metrics["mIoU"] > raw.metrics["mIoU"]


def test_names_restrict_the_evaluated_masks(folders):
    gt_dir, pred_dir, names, pairs = folders
    chosen = names[3:7]
    result = evaluate_folders(gt_dir, pred_dir, 5, names=list(reversed(chosen)) + chosen[:1], progress=False)
    assert result.metrics == pytest.approx(in_memory(pairs[3:7], 5).compute().metrics, nan_ok=True)


def test_missing_predictions_and_wrong_sizes_are_refused(folders):
    gt_dir, pred_dir, names, _pairs = folders
    (pred_dir / names[4]).unlink()
    (pred_dir / names[9]).unlink()
    with pytest.raises(BadInputError, match=rf"2 of 12 predictions missing, first: {names[4]}, {names[9]}"):
        evaluate_folders(gt_dir, pred_dir, 5, progress=False)
    save_mask(pred_dir / names[4], np.zeros((31, 40), np.int64))
    save_mask(pred_dir / names[9], np.zeros((30, 40), np.int64))  # the right size
    with pytest.raises(BadInputError, match=rf"{names[4]}: size 40x31 differs from the ground truth's 40x30"):
        evaluate_folders(gt_dir, pred_dir, 5, workers=2, progress=False)


def test_shards_cover_the_list_disjointly():
    items = list(range(10))
    parts = [take_shard(items, (k, 3)) for k in (1, 2, 3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert take_shard(items, None) == items
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1/2/3"):
        with pytest.raises(BadInputError, match="--shard"):
            parse_shard(bad)


def test_shard_states_merge_to_the_full_result(folders, tmp_path):
    gt_dir, pred_dir, _names, _pairs = folders
    match = match_folders(gt_dir, pred_dir, 5, progress=False)
    paths = []
    for k in (1, 2, 3):
        part = accumulate_evaluation(gt_dir, pred_dir, 5, match, shard=(k, 3), workers=1, progress=False)
        paths.append(save_state(tmp_path / f"s{k}.npz", part, shard=(k, 3), match=match))
    merged, meta = merge_states(paths)
    assert meta["kind"] == "luss-evaluation" and merged.num_images == 12
    full = evaluate_folders(gt_dir, pred_dir, 5, match, progress=False)
    assert merged.compute().metrics == pytest.approx(full.metrics, nan_ok=True)
    match_paths = [save_state(tmp_path / f"m{k}.npz",
                              accumulate_matching(gt_dir, pred_dir, 5, shard=(k, 2), progress=False), shard=(k, 2))
                   for k in (1, 2)]
    counter, _ = merge_states(match_paths)
    assert counter.match() == match


def test_merging_refuses_mixed_or_repeated_states_and_warns_on_missing(folders, tmp_path):
    gt_dir, pred_dir, _names, _pairs = folders
    part = accumulate_evaluation(gt_dir, pred_dir, 5, shard=(1, 2), progress=False)
    a = save_state(tmp_path / "a.npz", part, shard=(1, 2))
    b = save_state(tmp_path / "b.npz", part, shard=(1, 2))
    with pytest.raises(BadInputError, match=r"shard 1/2 repeats .*a\.npz"):
        merge_states([a, b])
    c = save_state(tmp_path / "c.npz", part, shard=(2, 2), match={0: 0, 1: 2, 2: 1})
    with pytest.raises(BadInputError, match="match"):
        merge_states([a, c])
    d = save_state(tmp_path / "d.npz", MatchCounter(5), shard=(2, 2))
    with pytest.raises(BadInputError, match="kind 'luss-matching' differs"):
        merge_states([a, d])
    with pytest.warns(InputWarning, match="shards 2/2 are missing"):
        merge_states([a])
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match="not a LUSS state file"):
        load_state(tmp_path / "junk.npz")
