"""Calibration on real DNG files with known injected noise, and on the real Canon camera file."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.pretrain.calibrate import calibrate, measure_file
from aodraw.pretrain.camera import Camera, read_camera
from aodraw.synthetic_raw import write_dng

CANON = Path("/work/shared/reference/raw_samples/canon_550d_colorchart.dng")
BLACK, WHITE = 512, 16383


def flat_patches_dng(path: Path, shot: float, read: float, seed: int) -> Path:
    """A 512 x 512 mosaic of 16 flat stripes (signal 0.02 .. 0.8) with Gaussian shot/read noise of the model."""
    rng = np.random.default_rng(seed)
    levels = np.repeat(np.linspace(0.02, 0.8, 16), 32)[:, None] * np.ones((1, 512))
    noisy = levels + np.sqrt(shot * levels + read) * rng.standard_normal(levels.shape)
    return write_dng(path, np.clip(np.rint(noisy * (WHITE - BLACK) + BLACK), 0, WHITE).astype(np.uint16))


def test_noise_is_recovered_from_flat_patches(tmp_path):
    measured = measure_file(flat_patches_dng(tmp_path / "a.dng", 4e-4, 2e-6, 0))
    assert measured["black_level"] == BLACK and measured["white_level"] == WHITE
    for shot, _ in measured["noise_rgbg"]:
        assert shot == pytest.approx(4e-4, rel=0.05)
    # read noise is 1/4 of the variance at the darkest patch only: one plane alone is known to +-30%
    assert measured["read"] == pytest.approx(2e-6, rel=0.2)
    assert measured["shot"] == pytest.approx(4e-4, rel=0.03)


def test_several_files_give_ranges_and_the_log_linear_fit(tmp_path):
    noise = [(2e-4, 5e-7), (1e-3, 2e-5), (4e-3, 4e-4)]
    for i, (shot, read) in enumerate(noise):
        flat_patches_dng(tmp_path / f"{i}.dng", shot, read, i)
    camera, measured, failed = calibrate(tmp_path, workers=1)
    assert not failed and len(measured) == 3
    assert camera.log_shot_range[0] == pytest.approx(math.log(2e-4), abs=0.15)
    assert camera.log_shot_range[1] == pytest.approx(math.log(4e-3), abs=0.15)
    slope, intercept = np.polyfit(np.log([s for s, _ in noise]), np.log([r for _, r in noise]), 1)
    assert camera.read_slope == pytest.approx(slope, abs=0.25)
    assert camera.read_intercept == pytest.approx(intercept, abs=2.5)


def test_real_canon_file():
    if not CANON.exists():
        pytest.skip(f"{CANON} not available")
    import rawpy

    m = measure_file(CANON)
    with rawpy.imread(str(CANON)) as raw:
        rgb_cam = np.array(raw.color_matrix[:, :3], np.float64)
        wb = raw.camera_whitebalance
        levels = (raw.black_level_per_channel[0], raw.white_level)
    assert (m["black_level"], m["white_level"]) == levels
    assert m["red_gain"] == pytest.approx(wb[0] / wb[1]) and m["blue_gain"] == pytest.approx(wb[2] / wb[1])
    # camera RGB <- sRGB is LibRaw's sRGB <- camera inverted (rows normalised so white stays white)
    camera = Camera(xyz_to_camera=tuple(map(tuple, m["xyz_to_camera"])))
    inverse = np.linalg.inv(rgb_cam)
    np.testing.assert_allclose(camera.rgb_to_camera(), inverse / inverse.sum(1, keepdims=True), atol=1e-6)
    shots = [s for s, _ in m["noise_rgbg"]]
    assert 1e-5 < min(shots) and max(shots) < 1e-2 and max(shots) / min(shots) < 1.3  # one sensor, one ISO


def test_calibrate_command_writes_a_camera_file_the_unprocessing_reads(tmp_path):
    (tmp_path / "raw").mkdir()
    flat_patches_dng(tmp_path / "raw" / "x.ARW", 1e-3, 1e-5, 0)
    out = tmp_path / "camera.json"
    result = CliRunner().invoke(main, ["pretrain", "calibrate", "--raw-dir", str(tmp_path / "raw"), "--out", str(out),
                                       "--workers", "1"])
    assert result.exit_code == 0, result.output
    camera = read_camera(out)
    assert camera.black_level == BLACK and math.exp(camera.log_shot_range[0]) < 1e-3 < math.exp(
        camera.log_shot_range[1])


def test_calibrate_bad_folder_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["pretrain", "calibrate", "--raw-dir", str(tmp_path), "--out",
                                       str(tmp_path / "c.json")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: --raw-dir: no RAW files (.ARW, .DNG, .NEF, .CR2, .CR3, "
                                                  f".RAF, .ORF, .RW2) in {tmp_path}"]
    assert not (tmp_path / "c.json").exists()
