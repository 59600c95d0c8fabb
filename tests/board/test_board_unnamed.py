"""A submission that names no method is listed under its file's stem on both leaderboards (CSV, site, score JSON):
``flat.zip`` -> ``flat``; one rule, ``plumbing.archives.name_method``."""
from __future__ import annotations

import csv
import json
import zipfile

import pytest
from board_data import detection_zip
from click.testing import CliRunner
from luss.luss_data import make_pairs, write_pairs
from test_board_site import table_rows

from aodraw.cli import main as aodraw_main
from imagenet_s.cli import main as imagenet_main
from plumbing.archives import ScoreCache, name_method


def test_name_method_keeps_a_name_and_falls_back_to_the_stem():
    assert name_method({"Method name": "PASS"}, "x/flat.zip")["Method name"] == "PASS"
    assert name_method({"Method name": "  "}, "x/flat.zip")["Method name"] == "flat"
    assert name_method({}, "dt.json") == {"Method name": "dt"}


@pytest.fixture
def luss_board(tmp_path):
    """(gt_dir, board folder): flat.zip without method.txt, named.zip whose method.txt gives no name."""
    gt_dir, pred_dir, names = write_pairs(tmp_path / "luss", make_pairs(6, 8, 50))
    board = tmp_path / "subs"
    board.mkdir()
    for archive, method in (("flat.zip", None), ("nameless.zip", "Networks: ResNet-50\n")):
        with zipfile.ZipFile(board / archive, "w") as zf:
            for name in names:
                zf.write(pred_dir / name, name)
            if method is not None:
                zf.writestr("method.txt", method)
    return gt_dir, board


def test_imagenet_s_board_and_site_show_the_stem(luss_board, tmp_path):
    gt_dir, board = luss_board
    out, site = tmp_path / "board.csv", tmp_path / "site"
    run = CliRunner().invoke(imagenet_main, ["leaderboard", str(board), "--gt-dir", str(gt_dir), "--mode", "50",
                                             "--out", str(out), "--html", str(site), "--workers", "1"])
    assert run.exit_code == 0, run.output
    assert "flat.zip: no method.txt; the method is listed under the file name" in run.stderr
    rows = list(csv.DictReader(out.open()))
    assert sorted((r["method"], r["archive"]) for r in rows) == [("flat", "flat.zip"), ("nameless", "nameless.zip")]
    html = (site / "imagenet-s-50" / "index.html").read_text()
    assert "(unnamed)" not in html
    cells, classes = table_rows(html)
    assert sorted(r[0] for r, c in zip(cells, classes) if c != "reference") == ["flat", "nameless"]
    page = next((site / "imagenet-s-50").glob("flat-*.html")).read_text()
    assert "<h1>flat</h1>" in page and "(unnamed)" not in page
    # the score JSON records it too, like aodraw score
    score = tmp_path / "score.json"
    run = CliRunner().invoke(imagenet_main, ["score", str(board / "flat.zip"), "--gt-dir", str(gt_dir), "--mode",
                                             "50", "--workers", "1", "--json", str(score)])
    assert run.exit_code == 0, run.output
    assert json.loads(score.read_text())["method"]["Method name"] == "flat"


def test_a_score_cached_without_a_name_is_listed_under_the_stem(tmp_path):
    path = tmp_path / "old.zip"
    path.write_bytes(b"cached")
    cache = ScoreCache(tmp_path / ".scores", ["settings"])
    rows = cache.ranked_rows([path], lambda p, d, f: {"row": {"method": "", "status": "ok", "mIoU": 1.0}},
                             "mIoU", "archive", ())
    assert rows[0]["method"] == "old"


def test_aodraw_uses_the_same_rule(detection_set, tmp_path):
    gt, dt = detection_set
    subs = tmp_path / "subs"
    subs.mkdir()
    detection_zip(subs / "flat.zip", dt, None)
    out = tmp_path / "board.csv"
    run = CliRunner().invoke(aodraw_main, ["leaderboard", str(subs), "--gt", str(gt), "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert [r["method"] for r in csv.DictReader(out.open())] == ["flat"]
