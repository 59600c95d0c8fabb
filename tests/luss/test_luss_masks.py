"""The mask codec (id = R + 256 * G) and mask folders, on real PNG files."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from evaluators.luss import MaskFolder, decode_mask, encode_mask, write_mask
from evaluators.luss.masks import HEADER_BYTES, check_header, pair_names
from plumbing.errors import BadInputError


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def palette_image() -> Image.Image:
    image = Image.frombytes("P", (16, 16), bytes(range(256)))
    image.putpalette(list(range(256)) * 3)  # a full palette, so PIL keeps 8 bits per pixel
    return image


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.integers(0, 65535)))
def test_encode_decode_round_trip(ids):
    decoded = decode_mask(encode_mask(ids), "mask.png")
    assert decoded.dtype == np.int32
    np.testing.assert_array_equal(decoded, ids)


@settings(max_examples=30, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 8), st.integers(1, 8), st.just(3))))
def test_decode_of_any_rgb_png_is_r_plus_256_g(rgb):
    decoded = decode_mask(png_bytes(Image.fromarray(rgb, "RGB")), "x.png")
    np.testing.assert_array_equal(decoded, rgb[..., 0].astype(np.int64) + 256 * rgb[..., 1].astype(np.int64))


def test_decode_is_numpy2_safe_for_wide_ids():
    rgb = np.array([[[232, 3, 0], [255, 255, 0], [0, 1, 0]]], np.uint8)  # 1000, 65535, 256
    np.testing.assert_array_equal(decode_mask(png_bytes(Image.fromarray(rgb)), "x.png"), [[1000, 65535, 256]])


def test_opaque_rgba_is_accepted_and_transparent_rgba_refused():
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 7, 255
    assert (decode_mask(png_bytes(Image.fromarray(rgba, "RGBA")), "a.png") == 7).all()
    rgba[1, 2, 3] = 0
    with pytest.raises(BadInputError, match=r"b\.png: mode is RGBA with transparent pixels"):
        decode_mask(png_bytes(Image.fromarray(rgba, "RGBA")), "b.png")


@pytest.mark.parametrize("image, mode", [
    (palette_image(), "8-bit palette (P)"),
    (Image.new("L", (4, 3)), "8-bit grayscale (L)"),
    (Image.new("LA", (4, 3)), "8-bit grayscale with alpha (LA)"),
    (Image.new("1", (4, 3)), "1-bit grayscale (L)"),
])
def test_non_rgb_modes_are_refused_naming_file_and_mode(image, mode):
    with pytest.raises(BadInputError) as err:
        decode_mask(png_bytes(image), "n01443537/x.png")
    assert str(err.value) == f"n01443537/x.png: mode is {mode}; masks must be 8-bit RGB (id = R + 256 * G)"


def test_16bit_rgb_is_refused():
    ok, buf = cv2.imencode(".png", np.zeros((3, 4, 3), np.uint16))
    assert ok
    with pytest.raises(BadInputError, match=r"mode is 16-bit RGB"):
        decode_mask(buf.tobytes(), "deep.png")


def test_ground_truth_above_1000_is_refused_but_1000_is_ignore():
    assert decode_mask(encode_mask(np.array([[0, 1000, 919]])), "g.png", ground_truth=True).max() == 1000
    with pytest.raises(BadInputError, match=r"g\.png: ground-truth id 1001 is above 1000"):
        decode_mask(encode_mask(np.array([[0, 1001]])), "g.png", ground_truth=True)
    assert decode_mask(encode_mask(np.array([[0, 1001]])), "p.png").max() == 1001  # predictions may


def test_header_checks_size_and_pixel_limit_before_decoding():
    data = encode_mask(np.zeros((30, 40), np.int64))
    assert check_header(data[:HEADER_BYTES], "m.png", shape=(30, 40)).width == 40
    with pytest.raises(BadInputError, match=r"m\.png: size 40x30 differs from the ground truth's 40x31"):
        check_header(data[:HEADER_BYTES], "m.png", shape=(31, 40))
    with pytest.raises(BadInputError, match=r"m\.png: 40x30 pixels exceed the limit of 1,000"):
        decode_mask(data, "m.png", max_pixels=1000)


def test_encode_refuses_ids_outside_16_bits():
    with pytest.raises(ValueError, match="0..65535"):
        encode_mask(np.array([[65536]]))
    with pytest.raises(ValueError, match="0..65535"):
        encode_mask(np.array([[-1]]))
    with pytest.raises(ValueError, match="2-D integer"):
        encode_mask(np.zeros((2, 2), np.float32))


def test_mask_folder_lists_pngs_recursively_sorted_and_reads(tmp_path):
    write_mask(tmp_path / "n2" / "b.png", np.full((2, 2), 3))
    write_mask(tmp_path / "n1" / "a.png", np.full((2, 2), 1000))
    (tmp_path / "n1" / "notes.txt").write_text("x")
    folder = MaskFolder(tmp_path)
    assert folder.names() == ["n1/a.png", "n2/b.png"]
    assert folder.read("n2/b.png").tolist() == [[3, 3], [3, 3]]
    with pytest.raises(BadInputError, match="no such file"):
        folder.read("n3/c.png")
    with pytest.raises(BadInputError, match="not a folder"):
        MaskFolder(tmp_path / "missing")


def test_pair_names_reports_missing_predictions_with_count_and_first_few():
    gt = [f"n/{i}.png" for i in range(10)]
    assert pair_names(gt, gt, None, "pred") == gt
    with pytest.raises(BadInputError) as err:
        pair_names(gt, gt[:3], None, "pred")
    assert str(err.value) == "pred: 7 of 10 predictions missing, first: n/3.png, n/4.png, n/5.png, n/6.png, n/7.png"
    with pytest.raises(BadInputError, match=r"names list: 1 of 2 listed masks have no ground truth, first: x.png"):
        pair_names(gt, gt, ["n/1.png", "x.png"], "pred")
