"""The official Hungarian matching, match files, and evaluation through a match."""
from __future__ import annotations

import json

import luss_reference as reference
import munkres
import numpy as np
import pytest
from luss_data import make_pairs, write_pairs
from scipy.optimize import linear_sum_assignment

from evaluators.luss import LUSSEvaluator, MatchCounter, match_folders, match_lookup, read_match, write_match
from evaluators.luss.matching import NO_CLASS, assign, label_sets, loads_match
from plumbing.errors import BadInputError, InputWarning


def test_label_sets_drop_background_ignore_and_out_of_range():
    gt = np.array([[0, 3, 1000], [2, 2, 1000]])
    pred = np.array([[0, 4, 5], [9, 2, 1]])  # 5 and 1 sit on ignored pixels; 9 is outside 1..4
    gt_labels, pred_labels = label_sets(gt, pred, 4)
    assert gt_labels.tolist() == [2, 3]
    assert pred_labels.tolist() == [2, 4]


def test_cost_matrix_equals_the_literal_loop():
    rng = np.random.default_rng(0)
    counter = MatchCounter(6)
    gt_sets, pred_sets = [], []
    for _ in range(40):
        g = sorted(rng.choice(np.arange(1, 7), size=rng.integers(0, 3), replace=False).tolist())
        p = sorted(rng.choice(np.arange(1, 7), size=rng.integers(0, 4), replace=False).tolist())
        counter.add_label_sets(np.array(g, int), np.array(p, int))
        gt_sets.append(g)
        pred_sets.append(p)
    expected = reference.cost_matrix(gt_sets, pred_sets, 6)
    assert counter.cost_matrix().tolist() == expected  # bit for bit: ties must stay ties


def test_matching_recovers_a_permuted_label_space():
    pairs = make_pairs(1, 40, 8)  # predictions are perm[gt] plus noise, perm drawn first from seed 1
    perm = np.concatenate([[0], np.random.default_rng(1).permutation(8) + 1])
    counter = MatchCounter(8)
    for gt, pred in pairs:
        counter.update(gt, pred)
    match = counter.match()
    assert sorted(match) == list(range(9)) and sorted(match.values()) == list(range(9)) and match[0] == 0
    present = {int(c) for gt, _ in pairs for c in np.unique(gt) if 0 < c < 1000}
    assert len(present) >= 6
    assert all(match[int(perm[c])] == c for c in present)
    lookup = match_lookup(match)
    matched, raw = LUSSEvaluator(8), LUSSEvaluator(8)
    for gt, pred in pairs:
        matched.update(gt, np.take(lookup, pred))
        raw.update(gt, pred)
    assert matched.compute().metrics["mIoU"] > raw.compute().metrics["mIoU"] + 30


def tied_cooccurrence(n: int, seed: int) -> np.ndarray:
    """Sparse co-occurrence with few distinct values: most assignments are ties."""
    rng = np.random.default_rng(seed)
    cooc = np.zeros((n, n), np.int64)
    for _ in range(n // 2):
        cooc[rng.integers(n), rng.integers(n)] += int(rng.integers(1, 3))
    return cooc


def random_label_sets(n: int, images: int, seed: int) -> tuple[list, list]:
    """Per-image ground-truth and predicted label sets of at most two labels: most assignments are ties."""
    rng = np.random.default_rng(seed)
    draw = [sorted(rng.choice(np.arange(1, n + 1), size=rng.integers(0, 3), replace=False).tolist())
            for _ in range(2 * images)]
    return draw[:images], draw[images:]


@pytest.mark.parametrize("n, images, seed", [(3, 7, 0), (5, 9, 4), (12, 37, 1), (50, 37, 2), (120, 37, 3)])
def test_assignment_equals_the_official_float32_matching_on_tied_costs(n, images, seed):
    gt_sets, pred_sets = random_label_sets(n, images, seed)
    counter = MatchCounter(n)
    for g, p in zip(gt_sets, pred_sets):
        counter.add_label_sets(np.array(g, int), np.array(p, int))
    assert counter.match() == reference.official_match(gt_sets, pred_sets, n)


# labels 1 and 2 co-occur 5, 6 / 4, 5 times with classes 1 and 2 over 7 images: the identity and the swap both
# cost 2 - 10/7, a tie that munkres breaks one way on the official float32 costs and the other on float64 ones
TIE_GT = [[2], [2], [2, 1], [1], [1, 2], [1, 2], [1, 2]]
TIE_PRED = [[1, 2], [1], [1, 2], [1], [2, 1], [1, 2], [2, 1]]


def bands(labels: list, axis: int, shape=(24, 32)) -> np.ndarray:
    """A mask with a 2-pixel background border, its inside split into equal bands of ``labels`` along ``axis``."""
    mask = np.zeros(shape, np.int64)
    inside = np.moveaxis(mask[2:-2, 2:-2], axis, 0)
    for k, label in enumerate(labels):
        inside[k * len(inside) // len(labels):(k + 1) * len(inside) // len(labels)] = label
    return mask


def test_a_tie_takes_the_official_partners_of_the_float32_cost(tmp_path):
    official = reference.official_match(TIE_GT, TIE_PRED, 3)
    assert official == {0: 0, 1: 2, 2: 1, 3: 3}
    float64_cost = [[1.0 - sum((i + 1) in p and (j + 1) in g for g, p in zip(TIE_GT, TIE_PRED)) / 7
                     for j in range(3)] for i in range(3)]
    assert munkres.Munkres().compute(float64_cost) == [(0, 0), (1, 1), (2, 2)]  # the tie is real
    pairs = [(bands(g, 1), bands(p, 0)) for g, p in zip(TIE_GT, TIE_PRED)]
    gt_dir, pred_dir, _ = write_pairs(tmp_path, pairs)
    assert match_folders(gt_dir, pred_dir, 3, workers=1, progress=False) == official
    assert match_folders(gt_dir, pred_dir, 50, workers=1, progress=False) == \
        reference.official_match(TIE_GT, TIE_PRED, 50)


def test_scipy_breaks_ties_differently_which_is_why_munkres_is_used():
    cost = 1.0 - tied_cooccurrence(120, 3) / 37
    rows, cols = linear_sum_assignment(cost)
    ours = assign(cost)
    assert cost[rows, cols].sum() == pytest.approx(sum(cost[r - 1, c - 1] for r, c in ours.items() if r))
    assert any(ours[r + 1] != c + 1 for r, c in zip(rows, cols))


def test_all_equal_costs_keep_the_identity():
    assert assign(np.ones((4, 4))) == {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}


def test_match_file_round_trip_uses_string_keys(tmp_path):
    match = {0: 0, 1: 3, 2: 1, 3: 2}
    path = write_match(tmp_path / "m.json", match)
    assert json.loads(path.read_text()) == {"0": 0, "1": 3, "2": 1, "3": 2}
    assert read_match(path, 3) == match


@pytest.mark.parametrize("text, message", [
    ('{"0": 0, "4": 1}', "key '4' is not a label in \"0\"..\"3\""),
    ('{"0": 0, "-1": 1}', "key '-1' is not a label"),
    ('{"0": 0, "01": 1}', "key '01' is not a label"),
    ('{"0": 0, "1": 4}', "key '1' maps to 4, not a class id in 0..3"),
    ('{"0": 0, "1": true}', "key '1' maps to True"),
    ('{"0": 0, "1": 2, "2": 2}', "keys '1' and '2' both map to 2 (a match must be one-to-one)"),
    ('{"0": 0, "1": 2, "1": 3}', "duplicate key '1'"),
    ('[0, 1]', "expected a JSON object"),
    ('{"0": 0,', "not valid JSON"),
])
def test_invalid_match_files_are_refused_naming_the_entry(text, message):
    with pytest.raises(BadInputError) as err:
        loads_match(text, 3, "m.json")
    assert str(err.value).startswith("m.json: ") and message in str(err.value)


def test_labels_missing_from_a_match_count_for_no_class():
    with pytest.warns(InputWarning, match="no key \"0\""):
        partial = loads_match('{"1": 2}', 3, "m.json")
    lookup = match_lookup(partial)
    assert lookup[1] == 2 and lookup[0] == NO_CLASS and lookup[3] == NO_CLASS and lookup[70] == NO_CLASS
    gt = np.array([[2, 2, 0, 0]])
    pred = np.array([[1, 3, 3, 0]])
    ev = LUSSEvaluator(3)
    ev.update(gt, np.take(lookup, pred))
    result = ev.compute()
    # class 2: T 2, P 1, TP 1; the unmatched 3s and the unmatched 0 are nobody's pixels but foreground
    np.testing.assert_allclose(result.ious, [0.0, 0.0, 50.0, 0.0])
    assert result.metrics["FMeasure"] == pytest.approx(1.3 * 0.5 * 1.0 / (0.3 * 0.5 + 1.0) * 100)
