"""``convert downsample``: official output for every orientation/border case, corrupt inputs, resume after SIGKILL."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from raw_pairs import PAIRS, make_pairs

from aodraw.cli import main
from aodraw.convert.downsample import convert_downsample
from aodraw.raw import RAW_SCALE
from aodraw.synthetic_raw import write_dng, write_jpg
from plumbing.files import output_complete

AODRAW = Path(sys.executable).parent / "aodraw"


def official_raw(mosaic, jpg_hw, orientation):
    """The official downsampled RAW restated without aodraw.raw: a quarter turn counter-clockwise (np.rot90) for
    orientation 8, then Debayer3x3 as RGGB (on every site, each colour is its normalised 3x3 kernel over that
    colour's sites of the reflect-padded mosaic), the centred crop to the JPG size, torch's bilinear resize
    (align_corners=False: source ``(i + 0.5) * scale - 0.5`` clamped at 0) in float64 and the division by
    (2^14 - 1) / 255 in float32. At the exact factor 3 of these images the float64 steps are exact."""
    m = np.rot90(mosaic) if orientation == 8 else mosaic
    h, w = m.shape
    padded = np.pad(m.astype(np.float64), 1, mode="reflect")
    yy, xx = np.mgrid[-1:h + 1, -1:w + 1] % 2
    sites = {"R": (yy == 0) & (xx == 0), "B": (yy == 1) & (xx == 1)}
    sites["G"] = yy != xx
    kernels = {"G": np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4,
               "R": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4}
    kernels["B"] = kernels["R"]
    rgb = np.stack([sum(kernels[c][dy, dx] * (padded * sites[c])[dy:dy + h, dx:dx + w]
                        for dy in range(3) for dx in range(3)) for c in "RGB"])
    top, left = (h - jpg_hw[0]) // 2, (w - jpg_hw[1]) // 2
    rgb = rgb[:, top:top + jpg_hw[0], left:left + jpg_hw[1]]

    def bilinear(n_in, n_out):
        src = np.maximum((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        weights = np.zeros((n_out, n_in))
        np.add.at(weights, (np.arange(n_out), i0), 1 - (src - i0))
        np.add.at(weights, (np.arange(n_out), i1), src - i0)
        return weights

    small = np.einsum("oh,chw,pw->cop", bilinear(jpg_hw[0], jpg_hw[0] // 3), rgb, bilinear(jpg_hw[1], jpg_hw[1] // 3))
    return small.astype(np.float32) / np.float32((2 ** 14 - 1) / 255)


def test_downsample_raw_every_case(images, tmp_path):
    root, mosaics = images
    summary = convert_downsample(root, tmp_path / "out", "raw", workers=1)
    assert sorted(summary.converted) == sorted(PAIRS) and not summary.failed
    displayed = {"00000001": ((48, 72), 1), "00000002": ((48, 72), 1), "00000003": ((72, 48), 8),
                 "00000004": ((72, 48), 8)}
    for name, (jpg_hw, orientation) in displayed.items():
        out = np.load(tmp_path / "out" / f"{name}.npy")
        assert out.dtype == np.float32 and out.shape == (3, jpg_hw[0] // 3, jpg_hw[1] // 3)
        np.testing.assert_array_equal(out, official_raw(mosaics[name], jpg_hw, orientation))


def test_turned_colours_official_quirk_and_cfa_aware(tmp_path):
    root = tmp_path / "images"
    root.mkdir()
    # a uniform scene: R = 300, G = 600, B = 900 on an RGGB sensor, shown turned (EXIF 8)
    write_dng(root / "a.ARW", np.tile(np.array([[300, 600], [600, 900]], np.uint16), (24, 36)))
    write_jpg(root / "a.JPG", np.zeros((48, 72, 3), np.uint8), orientation=8)
    convert_downsample(root, tmp_path / "official", "raw", workers=1)
    convert_downsample(root, tmp_path / "fixed", "raw", workers=1, cfa_aware=True)
    official, fixed = np.load(tmp_path / "official" / "a.npy"), np.load(tmp_path / "fixed" / "a.npy")
    assert official.shape == fixed.shape == (3, 24, 16)
    # upstream turns the mosaic (now GBRG) and demosaics it as RGGB: red and blue both read the green sites
    assert (official[0] == np.float32(600) / RAW_SCALE).all() and (official[2] == np.float32(600) / RAW_SCALE).all()
    for channel, value in enumerate((300, 600, 900)):
        assert (fixed[channel] == np.float32(value) / RAW_SCALE).all()


def test_downsample_srgb(images, tmp_path):
    root, _ = images
    convert_downsample(root, tmp_path / "out", "srgb", workers=2)
    for name in PAIRS:
        shown = cv2.imread(str(root / f"{name}.JPG"))
        small = cv2.resize(shown, (shown.shape[1] // 3, shown.shape[0] // 3), interpolation=cv2.INTER_LINEAR)
        assert (tmp_path / "out" / f"{name}.JPG").read_bytes() == cv2.imencode(".jpg", small)[1].tobytes()
    assert cv2.imread(str(tmp_path / "out" / "00000003.JPG")).shape == (24, 16, 3)


def test_corrupt_inputs_are_reported_and_skipped(images, tmp_path):
    root, _ = images
    (root / "00000009.ARW").write_bytes(b"not a raw file" * 100)
    shutil.copy(root / "00000001.JPG", root / "00000009.JPG")
    result = CliRunner().invoke(main, ["convert", "downsample", "--root", str(root), "--target",
                                       str(tmp_path / "out"), "--kind", "raw", "--workers", "2"])
    assert result.exit_code == 1
    assert "failed 00000009: 00000009.ARW: not a RAW file LibRaw can read (unknown or unsupported format)\n" \
        in result.output
    assert "converted 4, skipped 0 (already complete), failed 1" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out" / "00000009.npy").exists()
    # a truncated JPG in the sRGB conversion
    data = (root / "00000002.JPG").read_bytes()
    (root / "00000002.JPG").write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(main, ["convert", "downsample", "--root", str(root), "--target",
                                       str(tmp_path / "srgb"), "--kind", "srgb", "--workers", "1"])
    assert result.exit_code == 1
    assert "failed 00000002: 00000002.JPG: truncated JPG (no end-of-image marker)\n" in result.output
    assert not (tmp_path / "srgb" / "00000002.JPG").exists()


def test_bad_usage_is_one_line(tmp_path):
    for args, message in [(["--root", str(tmp_path / "missing"), "--kind", "raw"], "is not a folder"),
                          (["--root", str(tmp_path), "--kind", "raw", "--shard", "3/2"], "--shard")]:
        result = CliRunner().invoke(main, ["convert", "downsample", "--target", str(tmp_path / "o"), *args])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_shards_cover_everything_once(images, tmp_path):
    root, _ = images
    first = convert_downsample(root, tmp_path / "out", "srgb", workers=1, shard=(1, 2))
    second = convert_downsample(root, tmp_path / "out", "srgb", workers=1, shard=(2, 2))
    assert sorted(first.converted + second.converted) == sorted(PAIRS)
    assert not set(first.converted) & set(second.converted)


def test_resume_after_sigkill(tmp_path):
    root = tmp_path / "images"
    pairs = {f"{i:08d}": ((600, 900), (600, 900), None, True) for i in range(2)}
    make_pairs(root, pairs)
    for i in range(2, 40):  # more pairs, copied to save time
        for ext in (".ARW", ".JPG"):
            shutil.copy(root / f"{i % 2:08d}{ext}", root / f"{i:08d}{ext}")
    out = tmp_path / "out"
    cmd = [str(AODRAW), "convert", "downsample", "--root", str(root), "--target", str(out), "--kind", "raw",
           "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (out.is_dir() and len(list(out.glob("*.npy"))) >= 3) and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(out.glob("*.npy"))
    assert 3 <= len(done) < 40, "the run was not interrupted mid-way"
    assert all(output_complete(p) for p in done)  # nothing half-written under a final name
    # a file truncated by some other tool is redone, not skipped
    data = done[0].read_bytes()
    done[0].write_bytes(data[: len(data) // 2])
    rerun = subprocess.run(cmd, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    skipped = len(done) - 1
    assert f"converted {40 - skipped}, skipped {skipped} (already complete), failed 0" in rerun.stdout
    assert not list(out.glob(".*.tmp"))
    reference = np.load(out / "00000000.npy")
    for i in range(0, 40, 2):
        np.testing.assert_array_equal(np.load(out / f"{i:08d}.npy"), reference)


@pytest.mark.parametrize("kind", ["raw", "srgb"])
def test_rerun_skips_complete_outputs(images, tmp_path, kind):
    root, _ = images
    convert_downsample(root, tmp_path / "out", kind, workers=1)
    again = convert_downsample(root, tmp_path / "out", kind, workers=1)
    assert not again.converted and sorted(again.skipped) == sorted(PAIRS)
