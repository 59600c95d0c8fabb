"""Operating-system metadata in submission archives and mask folders: skipped unread, with one warning."""
from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner
from luss_data import make_pairs, write_pairs

from imagenet_s.cli import main
from imagenet_s.leaderboard import leaderboard
from imagenet_s.submission import METHOD_FIELDS, score_submission
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


def test_score_skips_metadata_unread_with_one_warning_and_scores_the_rest(data, tmp_path, monkeypatch):
    gt_dir, pred_dir, names = data
    extra = finder_metadata(names)
    clean = write_zip(tmp_path / "clean.zip", pred_dir, names, {})
    mac = write_zip(tmp_path / "mac.zip", pred_dir, names, extra)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: opened.append(
        getattr(name, "filename", name)) or real_open(self, name, *a, **k))
    expected = score_submission(clean, gt_dir, 50, workers=1, progress=False, notify=lambda _: None)
    opened.clear()
    with pytest.warns(UserWarning) as warned:
        got = score_submission(mac, gt_dir, 50, workers=1, progress=False, notify=lambda _: None)
    assert got.result.to_dict() == expected.result.to_dict()
    assert opened and not any(is_system_file(name) for name in opened)
    about = [str(w.message) for w in warned if "operating-system" in str(w.message)]
    assert len(about) == 1
    assert about[0].startswith(f"mac.zip: skipped {len(extra)} operating-system metadata members (")


def test_score_command_prints_one_warning_per_source_and_exit_0(data, tmp_path):
    gt_dir, pred_dir, names = data
    mac = write_zip(tmp_path / "mac.zip", pred_dir, names, finder_metadata(names))
    in_gt = add_folder_metadata(gt_dir, names)
    out = tmp_path / "score.json"
    run = CliRunner().invoke(main, ["score", str(mac), "--gt-dir", str(gt_dir), "--mode", "50", "--workers", "1",
                                    "--json", str(out)])
    assert run.exit_code == 0, run.output
    about = sorted(line for line in run.stderr.splitlines() if "operating-system" in line)
    assert len(about) == 2, run.stderr  # the ground truth is listed three times (names, matching, evaluation)
    assert about[0].startswith(f"warning: {gt_dir}: skipped {in_gt} operating-system metadata files")
    assert about[1].startswith("warning: mac.zip: skipped 10 operating-system metadata members")
    assert not [line for line in run.stderr.splitlines() if line.startswith("error")]
    assert json.loads(out.read_text())["num_images"] == 12


def test_finder_zip_of_a_folder_still_gets_the_nested_folder_hint(data, tmp_path):
    gt_dir, pred_dir, names = data
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name in names:
            zf.write(pred_dir / name, f"results/{name}")
            zf.writestr(f"__MACOSX/results/._{name}", APPLE_DOUBLE)
    run = CliRunner().invoke(main, ["score", str(path), "--gt-dir", str(gt_dir), "--mode", "50"])
    assert run.exit_code == 2
    assert "(the class folders sit inside results/; they must be at the root)" in run.stderr


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
