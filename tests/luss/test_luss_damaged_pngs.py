"""Damaged mask files: one plain line naming the file and the cause, and nothing from libpng or OpenCV on stderr."""
from __future__ import annotations

import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from luss_data import make_pairs, write_pairs
from PIL import Image

from evaluators.luss import decode_mask, encode_mask
from plumbing.errors import BadInputError


def chunk_at(data: bytes, kind: bytes) -> tuple[int, int]:
    """(offset, data length) of the first chunk of ``kind`` in PNG bytes."""
    pos = 8
    while data[pos + 4:pos + 8] != kind:
        pos += 12 + struct.unpack(">I", data[pos:pos + 4])[0]
    return pos, struct.unpack(">I", data[pos:pos + 4])[0]


def damaged(kind: str, good: bytes) -> bytes:
    """``good`` PNG bytes damaged in one way."""
    if kind == "truncated":
        return good[:len(good) * 2 // 3]  # an interrupted copy
    if kind == "truncated-header":
        return good[:20]
    if kind == "no-iend":
        return good[:-12]
    if kind == "empty":
        return b""
    if kind == "jpeg":
        return cv2.imencode(".jpg", np.zeros((8, 8, 3), np.uint8))[1].tobytes()
    if kind == "text":
        return b"n01443537 ILSVRC2012_val_00000000\n"
    pos, length = chunk_at(good, b"IDAT")
    raw = bytearray(good)
    if kind == "crc":
        raw[pos + 8 + length // 2] ^= 0xFF  # the chunk's CRC no longer matches
    elif kind == "broken-stream":
        raw[pos + 10] ^= 0xFF  # inside the compressed data, with the CRC made to match: only inflating fails
        raw[pos + 8 + length:pos + 12 + length] = struct.pack(">I", zlib.crc32(bytes(raw[pos + 4:pos + 8 + length])))
    return bytes(raw)


def cause(kind: str, good: bytes) -> str:
    """How the message for ``damaged(kind, good)`` starts, after the file's name."""
    return {
        "truncated": f"truncated PNG (ends early, after {len(good) * 2 // 3:,} bytes)",
        "truncated-header": "truncated PNG (ends early, after 20 bytes)",
        "no-iend": f"truncated PNG (ends early, after {len(good) - 12:,} bytes)",
        "empty": "empty file (0 bytes), not a PNG",
        "jpeg": "not a PNG file (JPEG data)",
        "text": "not a PNG file",
        "crc": "corrupt PNG (chunk 'IDAT' at byte 33 fails its CRC check)",
        "broken-stream": "corrupt PNG (its image data does not decode: ",
    }[kind]


KINDS = ["truncated", "truncated-header", "no-iend", "empty", "jpeg", "text", "crc", "broken-stream"]
GOOD = encode_mask(np.random.default_rng(0).integers(0, 60, (30, 40)))


@pytest.mark.parametrize("kind", KINDS)
def test_damaged_png_is_refused_naming_file_and_cause(kind):
    with pytest.raises(BadInputError) as err:
        decode_mask(damaged(kind, GOOD), "n01443537/x.png")
    assert str(err.value).startswith(f"n01443537/x.png: {cause(kind, GOOD)}")


def test_a_png_ending_right_after_iend_or_with_trailing_bytes_decodes():
    expected = decode_mask(GOOD, "x.png")
    np.testing.assert_array_equal(decode_mask(GOOD + b"\x00" * 7, "x.png"), expected)


def imagenet_s(*args) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("imagenet-s")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "imagenet_s"]
    return subprocess.run([*command, *map(str, args)], check=False, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("command", ["evaluate", "match", "score"])
@pytest.mark.parametrize("kind", ["truncated", "crc", "broken-stream"])
def test_commands_print_one_line_and_no_decoder_noise(kind, command, workers, tmp_path):
    gt_dir, pred_dir, names = write_pairs(tmp_path, make_pairs(3, 12, 50))
    bad = pred_dir / names[5]
    good = bad.read_bytes()
    bad.write_bytes(damaged(kind, good))
    out = tmp_path / "out.json"
    if command == "score":
        archive = tmp_path / "sub.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for name in names:
                zf.write(pred_dir / name, name)
        done = imagenet_s("score", archive, "--gt-dir", gt_dir, "--mode", 50, "--workers", workers, "--json", out)
        where = f"sub.zip:{names[5]}"
    else:
        target = ["--json", out] if command == "evaluate" else ["--out", out]
        done = imagenet_s(command, "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--workers", workers,
                          *target)
        where = bad
    lines = [line for line in done.stderr.splitlines() if not line.startswith("warning: ")]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {where}: {cause(kind, good)}"), done.stderr
    assert not out.exists()


def test_a_damaged_ground_truth_is_named(tmp_path):
    gt_dir, pred_dir, names = write_pairs(tmp_path, make_pairs(3, 4, 50))
    (gt_dir / names[1]).write_bytes(b"")
    done = imagenet_s("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--workers", 2)
    assert done.returncode == 2
    assert done.stderr == f"error: {gt_dir / names[1]}: empty file (0 bytes), not a PNG\n"


def test_valid_masks_with_odd_ancillary_chunks_score_silently(tmp_path):
    gt_dir, pred_dir, names = write_pairs(tmp_path, make_pairs(3, 12, 50))
    for name in names:  # an iCCP chunk libpng warns about ("iCCP: too short"); the pixels are fine
        rgb = np.asarray(Image.open(pred_dir / name))
        Image.fromarray(rgb).save(pred_dir / name, icc_profile=b"not a profile")
    done = imagenet_s("evaluate", "--gt-dir", gt_dir, "--pred-dir", pred_dir, "--mode", 50, "--workers", 2)
    assert done.returncode == 0 and done.stderr == ""
