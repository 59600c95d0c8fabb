"""The 'aodraw pretrain unprocess' contract on written JPG/PNG files: representation, determinism, resume, errors."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from aodraw.cli import main
from aodraw.detector_input import render_raw, unpack
from aodraw.raw import RAW_SCALE, demosaic
from aodraw.synthetic_raw import scene


def write_images(root, sizes=((36, 52), (33, 47), (40, 40))):
    root.mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        bgr = (scene(h, w, i) * 255).astype(np.uint8)
        cv2.imwrite(str(root / (f"img{i}.png" if i % 2 else f"img{i}.JPG")), bgr)
    return root


def unprocess(*args):
    return CliRunner().invoke(main, ["pretrain", "unprocess", *map(str, args)])


@pytest.fixture
def images(tmp_path):
    return write_images(tmp_path / "images")


def test_outputs_are_the_official_representation(images, tmp_path):
    out = tmp_path / "out"
    result = unprocess("--images", images, "--out", out, "--workers", 1)
    assert result.exit_code == 0, result.output
    assert "converted 3, skipped 0" in result.output
    for name, (h, w) in {"img0": (36, 52), "img1": (32, 46), "img2": (40, 40)}.items():  # odd sizes cropped
        array, bayer = np.load(out / f"{name}.npy"), np.load(out / f"{name}.bayer.npy")
        assert array.dtype == np.float32 and array.shape == (3, h, w)
        assert bayer.dtype == np.uint16 and bayer.shape == (4, h // 2, w // 2)
        np.testing.assert_array_equal(array, demosaic(unpack(bayer)) / RAW_SCALE)
        assert 0 <= array.min() and array.max() <= 255
        assert bayer.max() <= 16383 and np.median(bayer) > 512  # black level kept, as the official arrays
        rendered = render_raw(array)
        assert rendered.shape == (h, w, 3) and rendered.dtype == np.float32 and rendered.max() <= 255


def test_same_bytes_for_any_worker_count_and_file_set(images, tmp_path):
    assert unprocess("--images", images, "--out", tmp_path / "a", "--workers", 1, "--seed", 7).exit_code == 0
    assert unprocess("--images", images, "--out", tmp_path / "b", "--workers", 2, "--seed", 7).exit_code == 0
    alone = write_images(tmp_path / "alone", ((33, 47), (33, 47)))  # img1.png alone (and img0 of another size)
    assert unprocess("--images", alone, "--out", tmp_path / "c", "--workers", 1, "--seed", 7).exit_code == 0
    for name in ("img0.npy", "img1.npy", "img2.npy", "img0.bayer.npy", "img1.bayer.npy"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "img1.npy").read_bytes() == (tmp_path / "c" / "img1.npy").read_bytes()
    assert unprocess("--images", images, "--out", tmp_path / "d", "--workers", 1, "--seed", 8).exit_code == 0
    assert (tmp_path / "a" / "img0.npy").read_bytes() != (tmp_path / "d" / "img0.npy").read_bytes()


def test_rerun_skips_complete_outputs_and_redoes_broken_ones(images, tmp_path):
    out = tmp_path / "out"
    assert unprocess("--images", images, "--out", out, "--workers", 1).exit_code == 0
    good = (out / "img2.npy").read_bytes()
    (out / "img2.npy").write_bytes(good[:100])  # an interrupted, non-atomic copy
    result = unprocess("--images", images, "--out", out, "--workers", 1)
    assert "converted 1, skipped 2" in result.output
    assert (out / "img2.npy").read_bytes() == good
    assert not list(out.glob(".*tmp"))


def test_recursive_keeps_subfolders(tmp_path):
    root = tmp_path / "imagenet"
    write_images(root / "n01", ((20, 20),))
    write_images(root / "n02", ((24, 20),))
    result = unprocess("--images", root, "--out", tmp_path / "out", "--recursive", "--workers", 1)
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "out" / "n02" / "img0.npy").shape == (3, 24, 20)


def test_camera_file_changes_the_levels(images, tmp_path):
    camera = tmp_path / "camera.json"
    camera.write_text('{"black_level": 2048, "white_level": 15000}')
    assert unprocess("--images", images, "--out", tmp_path / "o", "--camera", camera, "--workers", 1).exit_code == 0
    bayer = np.load(tmp_path / "o" / "img0.bayer.npy")
    assert bayer.max() <= 15000 and np.percentile(bayer, 1) > 1500


@pytest.mark.parametrize("camera_json,message", [
    ('{"white_level": 20000}', "camera field 'white_level': levels must satisfy"),
    ('{"xyz_to_camera": [[1, 0], [0, 1]]}', "camera field 'xyz_to_camera': expected a 3 x 3 matrix"),
    ('{"red_gain_range": [2.0, 1.0]}', "camera field 'red_gain_range': expected [low, high]"),
    ('{"colour": 1}', "unknown camera field 'colour'"),
    ('{"black_level": ', "invalid JSON"),
])
def test_bad_camera_file_is_one_line_exit_2(images, tmp_path, camera_json, message):
    camera = tmp_path / "camera.json"
    camera.write_text(camera_json)
    result = unprocess("--images", images, "--out", tmp_path / "o", "--camera", camera)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {camera}: ") and message in lines[0]
    assert not (tmp_path / "o").exists()


def test_bad_folders_are_one_line_exit_2(tmp_path):
    result = unprocess("--images", tmp_path / "missing", "--out", tmp_path / "o")
    assert result.exit_code == 2 and result.output.strip() == f"error: --images: {tmp_path / 'missing'} is not a folder"
    (tmp_path / "empty").mkdir()
    result = unprocess("--images", tmp_path / "empty", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: --images: no JPG/PNG images in {tmp_path / 'empty'}"


def test_unreadable_image_fails_by_name(images, tmp_path):
    (images / "broken.jpg").write_bytes(b"not an image")
    result = unprocess("--images", images, "--out", tmp_path / "o", "--workers", 1)
    assert result.exit_code == 1
    assert "failed broken: " in result.output and "not a readable JPG/PNG image" in result.output
    assert not (tmp_path / "o" / "broken.npy").exists() and (tmp_path / "o" / "img0.npy").exists()
