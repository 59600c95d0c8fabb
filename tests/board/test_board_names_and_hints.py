"""Leaderboards name each file after itself (the sha256 score cache holds only scores), zips of a folder get the
nesting hint (metadata named first), site sort keys are escaped once, ties share a rank, long reasons are clipped in
the console only."""
from __future__ import annotations

import csv
import html
import json
import re
import zipfile

import pytest
from board_data import detection_zip, method_txt, write_zip
from click.testing import CliRunner

from aodraw.cli import main as aodraw_main
from imagenet_s.submission import inspect_archive
from plumbing.errors import BadInputError
from plumbing.site import Column, Table, render_table
from plumbing.tables import clip, format_table

NAMES = ("team #1", "a?b", "équipe v2", "x%20y")
ZIP_HOW = "`cd team && zip -r -X SUB.zip . -x '.*' -x '__MACOSX/*'`"


def run(*args):
    return CliRunner().invoke(aodraw_main, [str(a) for a in args])


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def site_rows(site):
    """{submission page file: (sort key, link text)} of the AODRaw board's rows that link to a page."""
    board = (site / "aodraw-aodraw" / "index.html").read_text(encoding="utf-8")
    found = re.findall(r'<th scope="row" data-value="([^"]*)"><a href="([^"]+)">([^<]*)</a>', board)
    return {link: (html.unescape(key), html.unescape(text)) for key, link, text in found}


@pytest.mark.parametrize("rerun", [False, True])
def test_identical_json_files_are_each_named_after_their_own_file(detection_set, tmp_path, rerun):
    gt, dt = detection_set
    subs = tmp_path / "subs5"
    subs.mkdir()
    for name in NAMES:
        (subs / f"{name}.json").write_text(json.dumps(dt), encoding="utf-8")
    site = tmp_path / "x5site"
    for _ in range(2 if rerun else 1):  # the second run reads every score from the cache
        result = run("leaderboard", subs, "--gt", gt, "--out", tmp_path / "x5.csv", "--html", site)
        assert result.exit_code == 0, result.output
    assert result.output.count("scoring ") == (0 if rerun else 1)  # one score for the four identical files
    rows = read_csv(tmp_path / "x5.csv")
    assert sorted((r["submission"], r["method"]) for r in rows) == sorted((f"{n}.json", n) for n in NAMES)
    assert {r["rank"] for r in rows} == {"1"}  # identical scores: tied, competition ranking
    assert len({r["AP"] for r in rows}) == 1 and float(rows[0]["AP"]) > 0.1
    shown = site_rows(site)
    assert sorted(text for _key, text in shown.values()) == sorted(NAMES)
    for link, (key, text) in shown.items():
        assert key == text
        page = (site / "aodraw-aodraw" / link).read_text(encoding="utf-8")
        assert f"<h1>{html.escape(text)}</h1>" in page
        assert f"<dd>{html.escape(text)}.json</dd>" in page  # the Submission fact: this file, not the first one
        assert "a?b" not in page or text == "a?b"


def test_identical_zips_keep_their_method_and_refusals_name_their_own_file(detection_set, tmp_path):
    gt, dt = detection_set
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("teamA", "teamB"):
        detection_zip(subs / f"{name}.zip", dt, method_txt("Shared Net"))
        write_zip(subs / f"{name}-bad.zip", {"results.json": json.dumps(dt), "notes.txt": "hi"})
    result = run("leaderboard", subs, "--gt", gt, "--out", tmp_path / "b.csv", "--html", tmp_path / "site")
    assert result.exit_code == 0, result.output
    rows = {r["submission"]: r for r in read_csv(tmp_path / "b.csv")}
    assert rows["teamA.zip"]["method"] == rows["teamB.zip"]["method"] == "Shared Net"  # from method.txt
    assert rows["teamA.zip"]["rank"] == rows["teamB.zip"]["rank"] == "1"
    for name in ("teamA", "teamB"):
        assert rows[f"{name}-bad.zip"]["status"].startswith(f"refused: {name}-bad.zip: member 'notes.txt'")
        pages = list((tmp_path / "site" / "aodraw-aodraw").glob(f"{name}-*.html"))
        assert len(pages) == 1 and f"<dd>{name}.zip</dd>" in pages[0].read_text(encoding="utf-8")


def test_the_console_table_clips_long_reasons_and_pads_nothing(detection_set, tmp_path):
    gt, dt = detection_set
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "good.json").write_text(json.dumps(dt))
    (subs / "worse.json").write_text(json.dumps(dt[: len(dt) // 2]))
    write_zip(subs / "bad.zip", {"results.json": json.dumps(dt), "x" * 150 + ".txt": "hi"})
    result = run("leaderboard", subs, "--gt", gt, "--out", tmp_path / "c.csv")
    assert result.exit_code == 0, result.output
    rows = read_csv(tmp_path / "c.csv")
    assert [r["rank"] for r in rows] == ["1", "2", ""]
    assert "x" * 150 in rows[2]["status"]  # the CSV keeps the reason whole
    lines = result.stdout.splitlines()
    assert all(line == line.rstrip() for line in lines)
    table = lines[lines.index(next(line for line in lines if line.startswith("AODRaw leaderboard"))):]
    good = next(line for line in table if "good.json" in line)
    assert good.startswith("1 ") and good.endswith("ok")
    bad = next(line for line in table if "bad.zip" in line)
    assert bad.endswith("\u2026") and "x" * 150 not in bad and len(bad) < len(good) + 70


def test_format_table_ties_and_clip():
    table = format_table(("rank", "name", "AP", "status"), [[1, "a", "1.00", "ok"], [1, "b", "1.00", "refused: long"]],
                         align_left=2, left=("status",))
    assert table.splitlines()[2] == "1     a     1.00  ok"
    assert clip("abcdef", 4) == "abc\u2026" and clip("abc", 4) == "abc" and clip(None, 9) == "None"


def test_site_sort_keys_are_escaped_once():
    name = "<script>alert(1)</script> & co"
    table = Table("t", (Column("method", "Method", numeric=False), Column("note", "Note", numeric=False)),
                  [{"method": name, "note": "a<b"}])
    rendered = render_table(table, sortable=True)
    assert f'data-value="{html.escape(name)}"' in rendered and f">{html.escape(name)}</th>" in rendered
    assert 'data-value="a&lt;b"' in rendered and "&amp;lt;" not in rendered


def zip_r_layout(path, finder: bool):
    """The exact member layout of `zip -r folder.zip team/` (a folder entry, then its files), or of macOS Finder's
    Compress of that folder (plus `__MACOSX/team/._*` resource forks)."""
    members = {"team/": b"", "team/dt.json": b"[]", "team/method.txt": method_txt("Net")}
    if finder:
        members.update({"__MACOSX/": b"", "__MACOSX/team/": b"", "__MACOSX/team/._dt.json": b"\x00\x05\x16\x07",
                        "__MACOSX/team/._method.txt": b"\x00\x05\x16\x07"})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_aodraw_score_gives_the_nested_folder_hint(detection_set, tmp_path):
    gt, _dt = detection_set
    result = run("score", zip_r_layout(tmp_path / "folder.zip", finder=False), "--gt", gt)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: folder.zip: member 'team/dt.json': not a COCO results .json or method.txt at the root "
                      f"(the files sit inside team/; they must be at the root: zip from inside the folder, {ZIP_HOW})"]


def test_a_finder_zip_of_a_folder_names_the_metadata_and_the_folder_in_one_line(detection_set, tmp_path):
    gt, _dt = detection_set
    result = run("score", zip_r_layout(tmp_path / "finder.zip", finder=True), "--gt", gt)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith("error: finder.zip: members '__MACOSX/' (4 in all, kinds __MACOSX/): "
                                "operating-system metadata"), errors[0]
    assert errors[0].endswith(f"; also, the files sit inside team/; they must be at the root: zip from inside the "
                              f"folder, {ZIP_HOW}")


def test_imagenet_s_archives_name_the_metadata_first_and_the_folder_too(tmp_path):
    path = tmp_path / "finder.zip"
    write_zip(path, {"team/": b"", "team/method.txt": b"Method name: x\n", "team/n01443537/a.png": b"\x89PNG",
                     "__MACOSX/team/._method.txt": b"\x00"})
    with pytest.raises(BadInputError) as caught:
        inspect_archive(path)
    message = str(caught.value)
    assert message.startswith("finder.zip: member '__MACOSX/team/._method.txt': operating-system metadata")
    assert message.endswith(f"; also, the files sit inside team/; they must be at the root: zip from inside the "
                            f"folder, {ZIP_HOW}")
