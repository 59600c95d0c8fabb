"""A reader of stdout that goes away early (``| head -1``) never fails a command nor costs it a file: the real
console entry points run in a subprocess whose stdout is a pipe that is closed either after one line (what
``| head -1`` does; the command may or may not write again after that) or before the command starts (so its first
write meets a closed pipe, every time)."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from board.board_data import detection_zip, jittered, method_txt, write_detection_set
from luss.luss_data import make_pairs, write_pairs

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_piped(args: list, closed_before: bool) -> tuple[int, str]:
    """Run ``python -m <args>`` with stdout into a pipe whose reader closes after one line (or before the start);
    return (exit code, stderr)."""
    command = [sys.executable, "-m", *[str(a) for a in args]]
    if closed_before:
        read_end, write_end = os.pipe()
        os.close(read_end)
        proc = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
        os.close(write_end)
    else:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
        proc.stdout.readline()
        proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err.decode()


@pytest.fixture(scope="module")
def detections(tmp_path_factory):
    """gt.json, dt.json and a folder of two submission zips of a 12-image synthetic AODRaw-style set."""
    root = tmp_path_factory.mktemp("closed_stdout")
    gt, dt = write_detection_set(root / "data", images=12)
    (root / "dt.json").write_text(json.dumps(dt))
    subs = root / "subs"
    subs.mkdir()
    detection_zip(subs / "a.zip", dt, method_txt("Alpha"))
    detection_zip(subs / "b.zip", jittered(dt, 4.0), method_txt("Beta", kind="srgb"))
    return gt, root / "dt.json", subs


@pytest.fixture(scope="module")
def masks(tmp_path_factory):
    """Ground truth and prediction folders of 4 LUSS-50 images, and a folder with one submission zip."""
    root = tmp_path_factory.mktemp("closed_stdout_luss")
    gt_dir, pred_dir, names = write_pairs(root, make_pairs(1, 4, 50))
    subs = root / "subs"
    subs.mkdir()
    with zipfile.ZipFile(subs / "pass.zip", "w") as zf:
        for name in names:
            zf.write(pred_dir / name, name)
        zf.writestr("method.txt", "Method name: PASS\nTraining data: ImageNet-S-50\nTraining scheme: fully "
                                  "unsupervised\nNetworks: ResNet-50\nPaper/Project link: https://example.org\n"
                                  "Method description: test\n")
    return gt_dir, pred_dir, subs


@pytest.mark.parametrize("closed_before", [False, True], ids=["after-one-line", "before-start"])
def test_aodraw_leaderboard_writes_its_table_and_site(detections, tmp_path, closed_before):
    gt, _, subs = detections
    code, err = run_piped(["aodraw", "leaderboard", subs, "--gt", gt, "--out", tmp_path / "lb.csv",
                           "--html", tmp_path / "site", "--cache", tmp_path / "cache"], closed_before)
    assert (code, err) == (0, "")
    rows = list(csv.DictReader((tmp_path / "lb.csv").open()))
    assert [r["method"] for r in rows] == ["Alpha", "Beta"] and float(rows[0]["AP"]) > float(rows[1]["AP"])
    assert (tmp_path / "site" / "index.html").is_file()


@pytest.mark.parametrize("closed_before", [False, True], ids=["after-one-line", "before-start"])
def test_aodraw_score_and_evaluate_write_their_json(detections, tmp_path, closed_before):
    gt, dt, subs = detections
    code, err = run_piped(["aodraw", "score", subs / "a.zip", "--gt", gt, "--json", tmp_path / "s.json"],
                          closed_before)
    assert (code, err) == (0, "")
    assert json.loads((tmp_path / "s.json").read_text())["method"]["Method name"] == "Alpha"
    code, err = run_piped(["aodraw", "evaluate", "--gt", gt, "--dt", dt, "--json", tmp_path / "e.json",
                           "--csv", tmp_path / "e.csv"], closed_before)
    assert code == 0
    assert err.splitlines() == [f"wrote {tmp_path / 'e.json'}", f"wrote {tmp_path / 'e.csv'}"]  # by design
    assert 0 < json.loads((tmp_path / "e.json").read_text())["metrics"]["AP"] <= 1
    assert (tmp_path / "e.csv").read_text().startswith("scope,name,metric,value")


@pytest.mark.parametrize("closed_before", [False, True], ids=["after-one-line", "before-start"])
def test_imagenet_s_leaderboard_score_and_evaluate_write_their_files(masks, tmp_path, closed_before):
    gt_dir, pred_dir, subs = masks
    common = ["--gt-dir", gt_dir, "--mode", "50", "--workers", "1"]
    code, err = run_piped(["imagenet_s", "leaderboard", subs, *common, "--out", tmp_path / "lb.csv",
                           "--html", tmp_path / "site", "--cache", tmp_path / "cache"], closed_before)
    assert (code, err) == (0, "")
    assert [r["method"] for r in csv.DictReader((tmp_path / "lb.csv").open())] == ["PASS"]
    assert (tmp_path / "site" / "index.html").is_file()
    code, err = run_piped(["imagenet_s", "score", subs / "pass.zip", *common, "--json", tmp_path / "s.json"],
                          closed_before)  # no match file inside: prints a notice before scoring
    assert (code, err) == (0, "")
    scored = json.loads((tmp_path / "s.json").read_text())
    code, err = run_piped(["imagenet_s", "evaluate", *common, "--pred-dir", pred_dir, "--json", tmp_path / "e.json"],
                          closed_before)
    assert (code, err) == (0, "")
    evaluated = json.loads((tmp_path / "e.json").read_text())
    assert 0 < evaluated["mIoU"] <= 100 and len(evaluated["IoUs"]) == 51 and "mIoU" in json.dumps(scored)


def test_a_broken_pipe_that_is_not_stdout_stays_an_error(tmp_path):
    """Only the reader of stdout going away is quiet: another BrokenPipeError keeps its error line and exit 1."""
    script = ("import os, sys\nfrom plumbing.cli import run_script\n"
              "def main():\n    r, w = os.pipe()\n    os.close(r)\n    os.write(w, b'x')\n"
              "run_script(main)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, env=_env(), cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr.decode().startswith("error: [Errno 32] Broken pipe")
