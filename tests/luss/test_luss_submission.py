"""Submission archives: safe scoring straight from real zip files, hostile archives, the leaderboard."""
from __future__ import annotations

import csv
import json
import stat
import struct
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from luss_data import make_pairs, write_pairs
from PIL import Image

from evaluators.luss import encode_mask, evaluate_folders, match_folders
from imagenet_s.cli import main
from imagenet_s.leaderboard import leaderboard
from imagenet_s.submission import METHOD_FIELDS, Limits, inspect_archive, score_submission
from plumbing.errors import BadInputError, InputWarning

METHOD = """Method name: PASS
Training data: ImageNet-S50 train
Training scheme: fully unsupervised
Networks: ResNet-50
Paper/Project link: https://arxiv.org/abs/2106.03149
Method description: pixel attention,
  then clustering
"""


@pytest.fixture
def data(tmp_path):
    """(gt_dir, pred_dir, names) of 12 images for --mode 50, predictions in a permuted label space."""
    return write_pairs(tmp_path / "data", make_pairs(2, 12, 50))


def zip_members(pred_dir, names, **extra) -> dict:
    members = {name: (pred_dir / name).read_bytes() for name in names}
    members.update(extra)
    return members


def build_zip(path, members: dict, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            if isinstance(data, zipfile.ZipInfo):
                zf.writestr(data, b"target")
            elif isinstance(data, tuple):  # (name, bytes) written under another key: a repeated name
                zf.writestr(*data)
            else:
                zf.writestr(name, data)
    return path


def set_encrypted_flag(path, member: str):
    """Mark a member encrypted in its central directory entry and its local header."""
    raw = bytearray(path.read_bytes())
    central = raw.find(b"PK\x01\x02")
    while raw[central + 46:central + 46 + len(member)] != member.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    local = struct.unpack("<I", raw[central + 42:central + 46])[0]
    raw[central + 8] |= 1
    raw[local + 6] |= 1
    path.write_bytes(bytes(raw))


def score_cli(archive, gt_dir, tmp_path, *extra):
    out = tmp_path / "score.json"
    run = CliRunner().invoke(main, ["score", str(archive), "--gt-dir", str(gt_dir), "--mode", "50",
                                    "--workers", "1", "--json", str(out), *map(str, extra)])
    return run, out


def test_scores_an_archive_with_match_json_like_the_folders(data, tmp_path):
    gt_dir, pred_dir, names = data
    match = match_folders(gt_dir, pred_dir, 50, progress=False)
    match_json = json.dumps({str(k): v for k, v in match.items()}).encode()
    archive = build_zip(tmp_path / "sub.zip", zip_members(pred_dir, names, **{"match.json": match_json,
                                                                               "method.txt": METHOD.encode()}))
    run, out = score_cli(archive, gt_dir, tmp_path)
    assert run.exit_code == 0, run.output
    written = json.loads(out.read_text())
    expected = evaluate_folders(gt_dir, pred_dir, 50, match, progress=False)
    assert written["match"] == "submitted" and written["num_images"] == 12
    assert written["mIoU"] == pytest.approx(expected.metrics["mIoU"], rel=1e-12)
    assert written["IoUs"] == pytest.approx(list(expected.ious), rel=1e-12)
    assert written["method"] == {"Method name": "PASS", "Training data": "ImageNet-S50 train",
                                 "Training scheme": "fully unsupervised", "Networks": "ResNet-50",
                                 "Paper/Project link": "https://arxiv.org/abs/2106.03149",
                                 "Method description": "pixel attention, then clustering"}
    assert "method: PASS" in run.stdout and "mIoU" in run.stdout


def test_without_match_json_the_matching_is_fitted_on_the_submission_and_said(data, tmp_path):
    gt_dir, pred_dir, names = data
    archive = build_zip(tmp_path / "sub.zip", zip_members(pred_dir, names, **{"method.txt": METHOD.encode()}))
    messages = []
    scored = score_submission(archive, gt_dir, 50, workers=2, progress=False, notify=messages.append)
    assert scored.match_source == "fitted"
    assert any("no match.json; using the matching fitted on the submission itself" in m for m in messages)
    expected = evaluate_folders(gt_dir, pred_dir, 50, match_folders(gt_dir, pred_dir, 50, progress=False),
                                progress=False)
    assert scored.result.metrics == pytest.approx(expected.metrics, nan_ok=True)


def test_missing_method_fields_warn_but_do_not_refuse(data, tmp_path):
    gt_dir, pred_dir, names = data
    archive = build_zip(tmp_path / "sub.zip", zip_members(pred_dir, names, **{"method.txt": b"Method name: X\n"}))
    with pytest.warns(InputWarning, match="method.txt lacks Training data, Training scheme"):
        scored = score_submission(archive, gt_dir, 50, workers=1, progress=False, notify=lambda m: None)
    assert scored.method["Method name"] == "X" and set(scored.method) == set(METHOD_FIELDS)


def symlink_member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def hostile_archive(kind: str, tmp_path, pred_dir, names) -> tuple:
    """(archive, extra CLI options) for one kind of hostile or broken submission."""
    members = zip_members(pred_dir, names, **{"method.txt": METHOD.encode()})
    path = tmp_path / f"{kind}.zip"
    extra = ()
    if kind == "zip-slip":
        members["../../evil.png"] = members.pop(names[0])
    elif kind == "absolute":
        members["/tmp/evil.png"] = b"x"
    elif kind == "backslash":
        members["..\\evil.png"] = b"x"
    elif kind == "symlink":
        members[names[0]] = symlink_member(names[0])
    elif kind == "not-png":
        members["n01443537/notes.txt"] = b"hello"
    elif kind == "nested-match":
        members["n01443537/match.json"] = b"{}"
    elif kind == "bomb":
        members["n01443537/big.png"] = bytes(30 << 20)  # 30 MiB of zeros deflate ~1000:1
    elif kind == "total-size":
        extra = ("--max-total-bytes", 2000)
    elif kind == "png-bomb":
        members[names[0]] = encode_mask(np.zeros((3000, 3000), np.int64))  # 9 Mpx in a few KB
        extra = ("--max-pixels", 1_000_000)
    elif kind == "wrong-size":
        members[names[5]] = encode_mask(np.zeros((31, 40), np.int64))
    elif kind == "palette":
        image = Image.frombytes("P", (40, 30), bytes(1200))
        image.putpalette(list(range(256)) * 3)
        path_png = tmp_path / "p.png"
        image.save(path_png)
        members[names[2]] = path_png.read_bytes()
    elif kind == "bad-match":
        members["match.json"] = b'{"0": 0, "1": 7, "2": 7}'
    elif kind == "match-out-of-range":
        members["match.json"] = b'{"0": 0, "51": 3}'
    elif kind == "missing":
        del members[names[3]], members[names[7]]
    elif kind == "nested-folder":
        members = {f"results/{name}": data for name, data in members.items() if name != "method.txt"}
    elif kind == "duplicate":
        with pytest.warns(UserWarning, match="Duplicate name"):
            build_zip(path, {**members, "again": (names[0], members[names[0]])})
        return path, extra
    elif kind == "not-a-zip":
        path.write_bytes(b"PK but not really a zip archive")
        return path, extra
    build_zip(path, members, zipfile.ZIP_STORED if kind == "corrupt" else zipfile.ZIP_DEFLATED)
    if kind == "encrypted":
        set_encrypted_flag(path, names[1])
    if kind == "corrupt":
        raw = bytearray(path.read_bytes())
        start = raw.find(members[names[4]][100:140])
        raw[start] ^= 0xFF  # a flipped byte inside one stored PNG: its CRC no longer matches
        path.write_bytes(bytes(raw))
    return path, extra


HOSTILE = {
    "zip-slip": "member '../../evil.png': '..' in the path (zip slip)",
    "absolute": "member '/tmp/evil.png': absolute path",
    "backslash": "member '..\\\\evil.png': backslash in the path",
    "symlink": "member 'n01443537/ILSVRC2012_val_00000000.png': symbolic link",
    "encrypted": "member 'n01443537/ILSVRC2012_val_00000001.png': encrypted",
    "not-png": "member 'n01443537/notes.txt': not a PNG prediction, match.json or method.txt at the root",
    "nested-match": "member 'n01443537/match.json': not a PNG prediction",
    "bomb": "member 'n01443537/big.png': compression ratio",
    "total-size": "members exceed 2,000 bytes uncompressed (zip bomb?)",
    "png-bomb": "ILSVRC2012_val_00000000.png: 3000x3000 pixels exceed the limit of 1,000,000",
    "wrong-size": "ILSVRC2012_val_00000005.png: size 40x31 differs from the ground truth's 40x30",
    "palette": "ILSVRC2012_val_00000002.png: mode is 8-bit palette (P)",
    "bad-match": "match.json: keys '1' and '2' both map to 7 (a match must be one-to-one)",
    "match-out-of-range": "match.json: key '51' is not a label in \"0\"..\"50\"",
    "missing": "2 of 12 predictions missing, first: n01443537/ILSVRC2012_val_00000003.png, "
               "n01443537/ILSVRC2012_val_00000007.png",
    "nested-folder": ("(the files sit inside results/; they must be at the root: zip from inside the folder, "
                "`cd results && zip -r -X SUB.zip . -x '.*' -x '__MACOSX/*'`)"),
    "duplicate": "member 'n01443537/ILSVRC2012_val_00000000.png': appears twice",
    "not-a-zip": "not a readable zip archive",
    "corrupt": "member 'n01443537/ILSVRC2012_val_00000004.png': corrupt data",
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_are_refused_with_one_line_and_nothing_written(kind, data, tmp_path):
    gt_dir, pred_dir, names = data
    archive, extra = hostile_archive(kind, tmp_path, pred_dir, names)
    run, out = score_cli(archive, gt_dir, tmp_path, *extra)
    assert run.exit_code == 2, run.output
    errors = [line for line in run.stderr.splitlines() if not line.startswith("warning:")]
    assert len(errors) == 1 and errors[0].startswith(f"error: {archive.name}"), run.stderr
    assert HOSTILE[kind] in errors[0]
    assert "Traceback" not in run.output and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".png") == sorted(
        ["data", archive.name])  # nothing extracted, nothing written


def test_inspection_reads_no_mask_and_keeps_the_text_members(data, tmp_path):
    _gt_dir, pred_dir, names = data
    archive = build_zip(tmp_path / "sub.zip", zip_members(pred_dir, names, **{"match.json": b'{"0": 0}'}))
    checked = inspect_archive(archive, Limits())
    assert checked.masks == sorted(names) and checked.match_json == b'{"0": 0}' and checked.method_txt is None
    with pytest.raises(BadInputError, match="no such file"):
        inspect_archive(tmp_path / "none.zip")


def test_leaderboard_ranks_caches_and_lists_refusals(data, tmp_path):
    gt_dir, pred_dir, names = data
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    match = match_folders(gt_dir, pred_dir, 50, progress=False)
    match_json = json.dumps({str(k): v for k, v in match.items()}).encode()
    build_zip(board_dir / "a.zip", zip_members(pred_dir, names, **{"method.txt": METHOD.encode(),
                                                                   "match.json": match_json}))
    build_zip(board_dir / "b.zip", zip_members(pred_dir, names, **{  # raw labels under an identity match
        "method.txt": b"Method name: Raw\n", "match.json": json.dumps({str(i): i for i in range(51)}).encode()}))
    hostile, _ = hostile_archive("zip-slip", tmp_path, pred_dir, names)
    (board_dir / "c.zip").write_bytes(hostile.read_bytes())
    out = tmp_path / "board.csv"
    run = CliRunner().invoke(main, ["leaderboard", str(board_dir), "--gt-dir", str(gt_dir), "--mode", "50",
                                    "--out", str(out), "--workers", "1"])
    assert run.exit_code == 0, run.output
    rows = list(csv.DictReader(out.open()))
    assert [(r["rank"], r["method"], r["archive"]) for r in rows] == [("1", "PASS", "a.zip"), ("2", "Raw", "b.zip"),
                                                                      ("", "", "c.zip")]
    assert float(rows[0]["mIoU"]) > float(rows[1]["mIoU"]) and rows[0]["networks"] == "ResNet-50"
    assert rows[2]["status"].startswith("refused: c.zip: member '../../evil.png'")
    assert len(list((board_dir / ".scores").glob("*.json"))) == 3
    messages = []
    again = leaderboard(board_dir, gt_dir, 50, workers=1, progress=False, notify=messages.append)
    assert messages == []  # every archive came from the cache
    assert [r["archive"] for r in again] == ["a.zip", "b.zip", "c.zip"]
    assert again[0]["mIoU"] == pytest.approx(float(rows[0]["mIoU"]), rel=1e-12)


def test_leaderboard_names_identical_archives_after_their_own_files_and_ties_share_a_rank(data, tmp_path):
    gt_dir, pred_dir, names = data
    board_dir = tmp_path / "board"
    board_dir.mkdir()
    build_zip(board_dir / "teamA.zip", zip_members(pred_dir, names))  # unnamed: no method.txt
    (board_dir / "teamB.zip").write_bytes((board_dir / "teamA.zip").read_bytes())
    hostile, _ = hostile_archive("zip-slip", tmp_path, pred_dir, names)
    for name in ("evilA.zip", "evilB.zip"):
        (board_dir / name).write_bytes(hostile.read_bytes())
    messages = []
    rows = leaderboard(board_dir, gt_dir, 50, workers=1, progress=False, notify=messages.append)
    assert sum(m.startswith("scoring ") for m in messages) == 2  # once per distinct content
    assert [(r["rank"], r["archive"], r["record"]["archive"]) for r in rows[:2]] == [
        (1, "teamA.zip", "teamA.zip"), (1, "teamB.zip", "teamB.zip")]
    assert [r["status"].split(":")[1].strip() for r in rows[2:]] == ["evilA.zip", "evilB.zip"]
