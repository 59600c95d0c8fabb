"""Operating-system metadata: a submission archive holding any is refused in one line naming its first member of
each kind (nothing decompressed, nothing written); mask folders skip it unread, with one warning."""
from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from luss_data import make_pairs, write_pairs

from imagenet_s.cli import main
from imagenet_s.leaderboard import leaderboard
from imagenet_s.submission import METHOD_FIELDS, score_submission
from plumbing.errors import BadInputError
from plumbing.system_files import is_system_file

APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(50)  # what macOS writes for ._name


@pytest.mark.parametrize("path", [
    "__MACOSX/n01443537/._ILSVRC2012_val_00000000.png", "__MACOSX/", "__macosx/x.png", "n01443537/.DS_Store",
    ".DS_Store", "results/n01443537/Thumbs.db", "THUMBS.DB", "n01443537/desktop.ini", "n01443537/._x.png",
    "._match.json", "._method.txt", ".Spotlight-V100/Store-V2/x.png", "$RECYCLE.BIN/desktop.ini",
    "System Volume Information/x.png", "ehthumbs.db",
])
def test_operating_system_files_are_recognised_at_any_depth(path):
    assert is_system_file(path)


@pytest.mark.parametrize("path", ["n01443537/x.png", "match.json", "method.txt", "n01443537/_x.png",
                                  "n01443537/.x.png", "MACOSX/x.png", "n01443537/x.png.DS_Store"])
def test_data_files_are_not_taken_for_system_files(path):
    assert not is_system_file(path)


def finder_metadata(names: list[str]) -> dict:
    """What macOS Finder, Explorer and copies via FAT disks add to a submission; a reader would choke on each."""
    extra = {f"__MACOSX/{name.rsplit('/', 1)[0]}/._{name.rsplit('/', 1)[1]}": APPLE_DOUBLE for name in names[:4]}
    extra.update({".DS_Store": b"\x00\x00\x00\x01Bud1" + bytes(40), "n01443537/.DS_Store": b"Bud1",
                  "n01443537/Thumbs.db": bytes(64), "n01443537/sub/desktop.ini": b"[.ShellClassInfo]\r\n",
                  "._method.txt": APPLE_DOUBLE, "n01443537/._ILSVRC2012_val_00000001.png": APPLE_DOUBLE})
    return extra


def write_zip(path, pred_dir, names, extra: dict):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            zf.write(pred_dir / name, name)
        zf.writestr("method.txt", "".join(f"{field}: test\n" for field in METHOD_FIELDS))
        for name, data in extra.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def data(tmp_path):
    return write_pairs(tmp_path / "data", make_pairs(5, 12, 50))


def test_score_refuses_metadata_members_naming_each_kind_and_reads_nothing(data, tmp_path, monkeypatch):
    gt_dir, pred_dir, names = data
    extra = finder_metadata(names)
    mac = write_zip(tmp_path / "mac.zip", pred_dir, names, extra)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(
        getattr(name, "filename", name)) or real_open(self, name, *a, **k))
    with pytest.raises(BadInputError) as info:
        score_submission(mac, gt_dir, 50, workers=1, progress=False, notify=lambda _: None)
    message = str(info.value)
    assert message.startswith("mac.zip: members ") and "\n" not in message
    first_of_kind = [f"__MACOSX/{names[0].rsplit('/', 1)[0]}/._{names[0].rsplit('/', 1)[1]}", ".DS_Store",
                     "n01443537/Thumbs.db", "n01443537/sub/desktop.ini", "._method.txt"]
    assert all(repr(name) in message for name in first_of_kind)
    assert f"({len(extra)} in all, kinds __MACOSX/, .DS_Store, Thumbs.db, desktop.ini, ._*)" in message
    assert "zip -r -X" in message and opened == []


def test_score_command_refuses_a_finder_zip_in_one_line_and_writes_nothing(data, tmp_path):
    gt_dir, pred_dir, names = data
    mac = write_zip(tmp_path / "mac.zip", pred_dir, names, {"n01443537/.DS_Store": b"Bud1"})
    out = tmp_path / "score.json"
    run = CliRunner().invoke(main, ["score", str(mac), "--gt-dir", str(gt_dir), "--mode", "50", "--workers", "1",
                                    "--json", str(out)])
    assert run.exit_code == 2, run.output
    assert run.stderr.splitlines() == ["error: mac.zip: member 'n01443537/.DS_Store': operating-system metadata, "
                                       "not part of a submission: zip without it, e.g. `zip -r -X SUB.zip . -x '.*' "
                                       "-x '__MACOSX/*'`"]
    assert not out.exists()


def test_finder_zip_of_a_folder_is_refused_for_its_metadata_then_gets_the_nested_folder_hint(data, tmp_path):
    gt_dir, pred_dir, names = data
    for finder in (True, False):  # as Finder zips the folder, then as `zip -r -X` zips it
        path = tmp_path / f"nested-{finder}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for name in names:
                zf.write(pred_dir / name, f"results/{name}")
                if finder:
                    zf.writestr(f"__MACOSX/results/._{name}", APPLE_DOUBLE)
        run = CliRunner().invoke(main, ["score", str(path), "--gt-dir", str(gt_dir), "--mode", "50"])
        assert run.exit_code == 2
        hint = ("(the files sit inside results/; they must be at the root: zip from inside the folder, "
                "`cd results && zip -r -X SUB.zip . -x '.*' -x '__MACOSX/*'`)")
        assert (f"members '__MACOSX/results/._{names[0]}'" in run.stderr) == finder
        assert (hint in run.stderr) != finder


def add_folder_metadata(folder, names: list[str]) -> int:
    """macOS and Windows files beside the masks (AppleDouble ._NAME.png files, as on a FAT/exFAT disk); their count."""
    files = {".DS_Store": b"Bud1", "n01443537/.DS_Store": b"Bud1", "n01443537/Thumbs.db": bytes(64),
             "desktop.ini": b"[.ShellClassInfo]\r\n", **{f"n01443537/._{n.split('/')[1]}": APPLE_DOUBLE
                                                          for n in names[:3]},
             f"__MACOSX/{names[0]}": APPLE_DOUBLE}
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return len(files)


@pytest.mark.parametrize("command", ["evaluate", "match"])
def test_folder_commands_skip_metadata_in_both_folders_with_one_warning_each(command, data, tmp_path):
    gt_dir, pred_dir, names = data
    out = tmp_path / "out.json"
    args = [command, "--gt-dir", str(gt_dir), "--pred-dir", str(pred_dir), "--mode", "50", "--workers", "2",
            "--json" if command == "evaluate" else "--out", str(out)]
    clean = CliRunner().invoke(main, args)
    assert clean.exit_code == 0, clean.output
    expected = json.loads(out.read_text())
    counts = {folder: add_folder_metadata(folder, names) for folder in (gt_dir, pred_dir)}
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    got = json.loads(out.read_text())  # two workers merge in completion order: float sums may differ in the last bit
    assert got.keys() == expected.keys() and all(got[key] == pytest.approx(expected[key]) for key in expected)
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert sorted(warnings) == sorted(w for w in warnings if "operating-system" in w) and len(warnings) == 2
    for folder, count in counts.items():
        assert any(w.startswith(f"warning: {folder}: skipped {count} operating-system metadata files (")
                   for w in warnings), run.stderr


def test_leaderboard_skips_appledouble_archives(data, tmp_path):
    gt_dir, pred_dir, names = data
    board = tmp_path / "board"
    board.mkdir()
    write_zip(board / "team.zip", pred_dir, names, {})
    (board / "._team.zip").write_bytes(APPLE_DOUBLE)
    with pytest.warns(UserWarning, match=r"skipped 1 operating-system metadata file \(\._team\.zip\)"):
        rows = leaderboard(board, gt_dir, 50, workers=1, progress=False, notify=lambda _: None)
    assert [row["archive"] for row in rows] == ["team.zip"] and rows[0]["status"] == "ok"
