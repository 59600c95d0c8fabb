"""The static leaderboard site as files: built from the leaderboards' rows, rebuilt atomically, other boards kept,
tables already in order without JavaScript, everything escaped, nothing fetched from the network."""
from __future__ import annotations

import csv
import json
import re
import sys
import types
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from board_data import detection_zip, jittered, method_txt
from click.testing import CliRunner
from luss.luss_data import make_pairs, write_pairs

from aodraw.cli import main as aodraw_main
from aodraw.leaderboard import reference_rows
from imagenet_s import leaderboard as luss_board
from imagenet_s.cli import main as imagenet_main
from plumbing.errors import BadInputError
from plumbing.site import Board, Column, Page, Table, build_site


class Rows(HTMLParser):
    """The body rows of the first table: a list of cell texts per row, and each row's class."""

    def __init__(self):
        super().__init__()
        self.rows, self.classes, self.cell, self.in_body = [], [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append([])
            self.classes.append(dict(attrs).get("class", ""))
        elif tag in ("td", "th") and self.in_body:
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None and self.in_body:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        elif tag == "tbody":
            self.in_body = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def table_rows(html: str) -> tuple[list, list]:
    parser = Rows()
    parser.feed(html)
    return parser.rows, parser.classes


@pytest.fixture
def aodraw_board(detection_set, tmp_path):
    gt, dt = detection_set
    subs = tmp_path / "subs"
    subs.mkdir()
    detection_zip(subs / "a.zip", dt, method_txt("Alpha <script>"))
    detection_zip(subs / "b.zip", jittered(dt, 5.0), method_txt("Beta", kind="srgb"))
    return gt, subs


def test_aodraw_site_pages_numbers_and_plots(aodraw_board, tmp_path):
    gt, subs = aodraw_board
    site, out = tmp_path / "site", tmp_path / "board.csv"
    result = CliRunner().invoke(aodraw_main, ["leaderboard", str(subs), "--gt", str(gt), "--out", str(out),
                                              "--html", str(site)])
    assert result.exit_code == 0, result.output
    assert f"wrote {site / 'index.html'}" in result.output
    csv_rows = list(csv.DictReader(out.open()))
    html = (site / "aodraw-aodraw" / "index.html").read_text()
    rows, classes = table_rows(html)
    scored = [r for r, c in zip(rows, classes) if c != "reference"]
    assert [r[0] for r in scored] == ["Alpha <script>", "Beta"]  # best AP first, without JavaScript
    assert "<script>" not in html.replace('<script src="../sort.js" defer></script>', "")
    headers = re.findall(r"<th [^>]*scope=\"col\"[^>]*>([^<]*)</th>", html)
    ap = headers.index("AP")
    assert scored[0][ap] == f"{100 * float(csv_rows[0]['AP']):.1f}"
    fog = headers.index("fog")
    assert scored[1][fog] == f"{100 * float(csv_rows[1]['AP_fog']):.1f}"
    assert classes.count("reference") == len(reference_rows("aodraw")) == 20 and 'aria-sort="descending"' in html
    aps = [float(r[ap]) for r in rows if r[ap] != "\u2013"]
    assert aps == sorted(aps, reverse=True)
    assert re.search(r'data-value="[0-9.]+" style="background-color: rgba', html)  # shaded conditions
    pages = sorted((site / "aodraw-aodraw").glob("*.html"))
    assert len(pages) == 3  # the board and one page per submission
    page = next(p for p in pages if p.name.startswith("a-")).read_text()
    assert "Alpha &lt;script&gt;" in page and "&lt;b&gt;on&lt;/b&gt; RAW &amp; sRGB" in page
    assert 'href="index.html" rel="up"' in page and page.count("<img ") == 2
    for src in re.findall(r'<img src="([^"]+)"', page):
        assert (site / "aodraw-aodraw" / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for text in [html, page, (site / "style.css").read_text(), (site / "sort.js").read_text()]:
        assert not re.search(r'(src="|<link[^>]+href="|url\()(https?:)?//', text)  # nothing from a network
    manifest = json.loads((site / "aodraw-aodraw" / "board.json").read_text())
    assert manifest["submissions"] == 2 and manifest["benchmark"] == "AODRaw"


def test_imagenet_site_joins_the_aodraw_one_and_rebuilds_atomically(aodraw_board, tmp_path, monkeypatch):
    gt, subs = aodraw_board
    site = tmp_path / "site"
    assert CliRunner().invoke(aodraw_main, ["leaderboard", str(subs), "--gt", str(gt), "--out",
                                            str(tmp_path / "a.csv"), "--html", str(site)]).exit_code == 0
    gt_dir, pred_dir, names = write_pairs(tmp_path / "luss", make_pairs(6, 8, 50))
    board = tmp_path / "luss_subs"
    board.mkdir()
    with zipfile.ZipFile(board / "pass.zip", "w") as zf:
        for name in names:
            zf.write(pred_dir / name, name)
        zf.writestr("method.txt", "Method name: PASS\nNetworks: ResNet-50\n")
    registry = types.ModuleType("imagenet_s.recipes")
    registry.RECIPES = [{"name": "pass_r50_50", "mode": "50", "backbone": "ResNet-50", "pretraining": "PASS",
                         "published_mIoU_val": 29.4, "published_mIoU_test": 29.3},
                        {"name": "pass_r50_300", "mode": "300", "published_mIoU_val": 18.0}]
    monkeypatch.setitem(sys.modules, "imagenet_s.recipes", registry)
    result = CliRunner().invoke(imagenet_main, ["leaderboard", str(board), "--gt-dir", str(gt_dir), "--mode", "50",
                                                "--out", str(tmp_path / "l.csv"), "--html", str(site),
                                                "--workers", "1"])
    assert result.exit_code == 0, result.output
    index = (site / "index.html").read_text()
    assert 'href="aodraw-aodraw/index.html"' in index and 'href="imagenet-s-50/index.html"' in index
    rows, classes = table_rows((site / "imagenet-s-50" / "index.html").read_text())
    assert classes.count("reference") == 1
    reference = rows[classes.index("reference")]
    assert reference[0].startswith("pass_r50_50") and "29.40" in reference
    luss_rows = list(csv.DictReader((tmp_path / "l.csv").open()))
    scored = rows[classes.index("")]
    assert scored[0] == "PASS" and f"{float(luss_rows[0]['mIoU']):.2f}" in scored
    page = next((site / "imagenet-s-50").glob("pass-*.html")).read_text()
    assert "IoU per class" in page and page.count("<img ") == 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # no temporary folder left


def test_reference_rows_degrade_to_none_without_a_registry(monkeypatch):
    monkeypatch.setitem(sys.modules, "imagenet_s.recipes", None)  # import fails
    assert luss_board.reference_rows(50) == []


def test_a_folder_that_is_not_a_site_is_never_replaced(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    board = Board("b", "B", "Board", "d", Table("t", (Column("m", "M", numeric=False),), [{"m": "x"}]))
    with pytest.raises(BadInputError, match="is not a leaderboard site made by this toolkit"):
        build_site(tmp_path / "mine", [board])
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    build_site(tmp_path / "site", [board])
    build_site(tmp_path / "site", [board])  # a rebuild replaces its own site
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "site"]


@pytest.mark.parametrize("benchmark", ["aodraw", "imagenet-s"])
def test_a_refused_html_folder_is_refused_before_anything_is_written(benchmark, aodraw_board, tmp_path):
    """`leaderboard --html` checks the site folder first: a refusal leaves no CSV, no score cache behind."""
    gt, subs = aodraw_board
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    main, args = ((aodraw_main, ["leaderboard", str(subs), "--gt", str(gt)]) if benchmark == "aodraw" else
                  (imagenet_main, ["leaderboard", str(subs), "--gt-dir", str(tmp_path / "no-gt"), "--mode", "50"]))
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "board.csv"), "--html", str(tmp_path / "mine")])
    assert result.exit_code == 2
    assert "refusing to replace it" in result.output
    assert not (tmp_path / "board.csv").exists() and not (subs / ".scores").exists()
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_a_failed_build_leaves_the_old_site(tmp_path):
    good = Board("b", "B", "Board", "d", Table("t", (Column("m", "M", numeric=False),), [{"m": "old"}]))
    build_site(tmp_path / "site", [good])
    broken = Board("b", "B", "Board", "d", Table("t", good.table.columns, [{"m": "new"}]),
                   [Page("p", "P", [], [], [(Path(tmp_path / "missing.png"), "gone")])])
    with pytest.raises(FileNotFoundError):
        build_site(tmp_path / "site", [broken])
    assert "old" in (tmp_path / "site" / "b" / "index.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
