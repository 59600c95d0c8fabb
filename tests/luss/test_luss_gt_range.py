"""Ground-truth ids must be 0..N or 1000: a mask of a larger subset scored with a smaller --mode is refused."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from luss_data import make_pairs

from evaluators.luss import LUSSEvaluator, decode_mask, encode_mask, write_mask
from evaluators.luss.masks import check_ground_truth
from imagenet_s.cli import main
from imagenet_s.submission import METHOD_FIELDS
from plumbing.errors import BadInputError


@pytest.fixture
def gt60(tmp_path):
    """(gt_dir, pred_dir, names, bad name): 6 mode-50 pairs written with write_mask; one ground truth holds a 6x6
    patch of id 60 (beside ignore pixels)."""
    names = [f"n01443537/ILSVRC2012_val_{i:08d}.png" for i in range(6)]
    for name, (gt, pred) in zip(names, make_pairs(5, 6, 50)):
        if name == names[3]:
            gt[10:16, 20:26] = 60
        write_mask(tmp_path / "gt60" / name, gt)
        write_mask(tmp_path / "pred" / name, pred)
    return tmp_path / "gt60", tmp_path / "pred", names, names[3]


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error(run, path, bad_id=60):
    assert run.exit_code == 2, run.output
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.output, run.stderr
    assert lines[0].startswith(f"error: {path}: ground-truth id {bad_id} is not a class of 50"), lines[0]
    assert "a 300- or 919-class ground truth scored with --mode 50?" in lines[0]


def test_evaluate_refuses_an_id_above_n_and_writes_nothing(gt60, tmp_path):
    gt_dir, pred_dir, _names, bad = gt60
    out = tmp_path / "b.json"
    run = invoke("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--json", out,
                 "--workers", 1)
    assert_one_error(run, gt_dir / bad)
    assert not out.exists()
    # the same folder under --mode 300 is valid: 60 is one of its classes
    run = invoke("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 300, "--json", out,
                 "--workers", 1)
    assert run.exit_code == 0, run.output
    assert out.exists()


def test_match_refuses_it_and_writes_no_match(gt60, tmp_path):
    gt_dir, pred_dir, _names, bad = gt60
    out = tmp_path / "m.json"
    run = invoke("match", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--out", out, "--workers", 1)
    assert_one_error(run, gt_dir / bad)
    assert not out.exists()


def test_score_refuses_it(gt60, tmp_path):
    gt_dir, pred_dir, names, bad = gt60
    archive = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in names:
            zf.writestr(name, (pred_dir / name).read_bytes())
        zf.writestr("method.txt", "".join(f"{field}: x\n" for field in METHOD_FIELDS))
    out = tmp_path / "score.json"
    run = invoke("score", archive, "--gt-dir", gt_dir, "--mode", 50, "--workers", 1, "--json", out)
    assert_one_error(run, gt_dir / bad)
    assert not out.exists()


def test_valid_ids_pass_and_every_other_id_is_named():
    n = 50
    ok = np.array([[0, 1, 50, 1000]])
    check_ground_truth(ok, "g.png", n)
    assert np.array_equal(decode_mask(encode_mask(ok), "g.png", ground_truth=True, num_classes=n), ok)
    for bad in (51, 60, 999):
        ids = np.array([[0, bad, 1000, 3]])
        with pytest.raises(BadInputError, match=rf"^g\.png: ground-truth id {bad} is not a class of 50 "):
            decode_mask(encode_mask(ids), "g.png", ground_truth=True, num_classes=n)
    with pytest.raises(BadInputError, match=r"id 400 is not a class of 300 .*a 919-class ground truth"):
        check_ground_truth(np.array([[400]]), "g.png", 300)
    with pytest.raises(BadInputError) as err:  # no larger subset holds 950: no hint
        check_ground_truth(np.array([[950]]), "g.png", 919)
    assert "?" not in str(err.value)
    with pytest.raises(BadInputError, match="id 1001 is above 1000"):
        check_ground_truth(np.array([[1001]]), "g.png", 50)
    check_ground_truth(np.array([[999]]), "g.png")  # no class count: only the bound 1000


def test_streaming_update_checks_against_its_class_count():
    ev = LUSSEvaluator(2)
    with pytest.raises(BadInputError, match="ground truth: ground-truth id 3 is not a class of 2"):
        ev.update(np.array([[0, 3]]), np.zeros((1, 2), int))
    ev.update(np.array([[0, 2, 1000]]), np.zeros((1, 3), int))
    assert ev.num_images == 1


def test_sweep_refuses_it(gt60, tmp_path):
    gt_dir, pred_dir, names, bad = gt60
    for name in names:
        np.save(pred_dir / (name[:-4] + ".npy"), np.full((30, 40), 0.5, np.float32))
    out = tmp_path / "sweep.json"
    run = invoke("sweep", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--max", 0.2, "--step", 0.1,
                 "--json", out, "--workers", 2)
    assert_one_error(run, gt_dir / bad)
    assert not out.exists()


def test_leaderboard_stops_on_it_and_refuses_no_submission(gt60, tmp_path):
    gt_dir, pred_dir, names, bad = gt60
    board = tmp_path / "board"
    board.mkdir()
    with zipfile.ZipFile(board / "sub.zip", "w") as zf:
        for name in names:
            zf.writestr(name, (pred_dir / name).read_bytes())
        zf.writestr("method.txt", "".join(f"{field}: x\n" for field in METHOD_FIELDS))
    out = tmp_path / "board.csv"
    run = invoke("leaderboard", board, "--gt-dir", gt_dir, "--mode", 50, "--out", out, "--workers", 2)
    assert_one_error(run, gt_dir / bad)
    assert not out.exists()
    assert not list((board / ".scores").glob("*.json"))  # nothing cached: the right --mode scores it afresh
    run = invoke("leaderboard", board, "--gt-dir", gt_dir, "--mode", 300, "--out", out, "--workers", 1)
    assert run.exit_code == 0, run.output
    assert [line.split(",")[:3] for line in out.read_text().splitlines()[1:]] == [["1", "x", "sub.zip"]]
