"""The pure RAW functions against hand-computed values."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aodraw.raw import (
    RAW_SCALE,
    RawImage,
    _demosaic_reference,
    border_crop,
    demosaic,
    fma32,
    orient,
    pack,
    read_raw,
    resize_bilinear,
    resolve_orientation,
    turned_pattern,
)
from aodraw.synthetic_raw import write_dng
from plumbing.errors import BadInputError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
CANON = SHARED / "reference" / "raw_samples" / "canon_550d_colorchart.dng"

# RGGB: (even, even) R, (even, odd) G, (odd, even) G, (odd, odd) B
M = np.array([[10, 20, 30, 40],
              [50, 70, 90, 40],
              [30, 10, 60, 80],
              [40, 90, 50, 70]], np.uint16)


@pytest.mark.parametrize("pixel, rgb", [
    ((1, 1), (32.5, 42.5, 70)),  # B site: R = mean of diagonals 10,30,30,60; G = mean of 20,10,50,90
    ((2, 2), (60, 57.5, 67.5)),  # R site: G = mean of 90,50,10,80; B = mean of diagonals 70,40,90,70
    ((1, 2), (45, 90, 55)),  # G site in a G-B row: B = mean of left/right 70,40; R = mean of up/down 30,60
    ((2, 1), (45, 10, 80)),  # G site in an R-G row: R = mean of left/right 30,60; B = mean of up/down 70,90
    ((0, 0), (10, 35, 70)),  # border R: reflection repeats row 1 / column 1 -> G = (50+50+20+20)/4, B = 70
    ((3, 3), (60, 65, 70)),  # border B: G = (80+80+50+50)/4, R = 60 (all four diagonals reflect to (2,2))
    ((0, 3), (30, 40, 40)),  # border G in R row: R = (30+30)/2, B = (40+40)/2
    ((3, 0), (30, 40, 90)),  # border G in B row: B = (90+90)/2, R = (30+30)/2
])
def test_demosaic_every_cfa_position(pixel, rgb):
    np.testing.assert_array_equal(demosaic(M)[:, pixel[0], pixel[1]], np.float32(rgb))


def test_demosaic_other_pattern():
    # GBRG: (0,0) G with B to its right and R below
    out = demosaic(M, "GBRG")
    # (1,0) is R: G = mean of 10, 30 and the reflected 70, 70; B = mean of diagonals 20, 10 (each twice)
    assert tuple(out[:, 1, 0]) == (50, 45, 15)
    assert tuple(out[:, 0, 0]) == (50, 10, 20)  # G: R from rows above/below (reflected 50,50), B left/right 20,20


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), st.sampled_from(["RGGB", "GRBG", "GBRG", "BGGR"]), st.integers(0, 99))
def test_fast_demosaic_equals_reference(h, w, pattern, seed):
    mosaic = np.random.default_rng(seed).integers(0, 2 ** 14, (2 * h, 2 * w)).astype(np.uint16)
    expected = _demosaic_reference(mosaic, pattern).transpose(2, 0, 1) / np.float32(4)
    np.testing.assert_array_equal(demosaic(mosaic, pattern), expected)


def test_demosaic_refuses_odd_and_deep_mosaics():
    with pytest.raises(BadInputError, match="even"):
        demosaic(np.zeros((3, 4), np.uint16))
    with pytest.raises(BadInputError, match="14 bits"):
        demosaic(np.full((4, 4), 20000, np.uint16))


def test_resize_bilinear_hand_values():
    x = np.array([[0, 10, 20, 40]], np.float32)
    out = resize_bilinear(x, (1, 3))
    # scale 4/3: sources 1/6, 1.5, 17/6 -> 10/6, 15, 20/6 + 40*5/6
    np.testing.assert_allclose(out[0], [10 / 6, 15, 20 / 6 + 200 / 6], rtol=1e-6)
    # upsampling clamps at the edges: sources -0.25 -> 0, 0.25, 0.75, 1.25 -> last index
    np.testing.assert_allclose(resize_bilinear(np.array([[4, 8]], np.float32), (1, 4))[0], [4, 5, 7, 8])
    # an exact factor 3 takes the centre pixel of each 3 x 3 block
    y = np.arange(36, dtype=np.float32).reshape(6, 6)
    np.testing.assert_array_equal(resize_bilinear(y, (2, 2)), y[1::3, 1::3])
    # channels stay independent
    z = np.stack([y, 2 * y], -1)
    np.testing.assert_array_equal(resize_bilinear(z, (2, 2))[..., 1], 2 * y[1::3, 1::3])


def test_fma32_breaks_double_rounding_ties():
    a = np.float32(1 + 2 ** -12)
    # a*a = 1 + 2^-11 + 2^-24 is halfway between two float32 values; + 2^-80 must round up, not to even
    assert fma32(a, a, np.float32(2 ** -80)) == np.float32(1 + 2 ** -11 + 2 ** -23)
    assert fma32(a, a, np.float32(0)) == np.float32(1 + 2 ** -11)
    assert fma32(a, a, np.float32(-2 ** -80)) == np.float32(1 + 2 ** -11)


def test_orientation_rules():
    assert resolve_orientation((4000, 6000), (4000, 6000), None) == 1
    assert resolve_orientation((6000, 4000), (4000, 6000), None) == 8  # aspect disagrees, no tag
    assert resolve_orientation((6000, 4000), (4000, 6000), 8) == 8
    assert resolve_orientation((4000, 6000), (4000, 6000), 1) == 1
    for jpg, tag in [((4000, 6000), 6), ((6000, 4000), 1), ((4000, 6000), 8)]:
        with pytest.raises(BadInputError, match="orientation"):
            resolve_orientation(jpg, (4000, 6000), tag)


def test_orient_mirror_then_transpose():
    m = np.arange(8).reshape(2, 4)
    np.testing.assert_array_equal(orient(m, 8), [[3, 7], [2, 6], [1, 5], [0, 4]])
    assert orient(m, 1) is m
    assert turned_pattern("RGGB", 8) == "GBRG"  # the upstream quirk: the turned mosaic is no longer RGGB
    assert turned_pattern("RGGB", 1) == "RGGB"


def test_border_crop_and_pack():
    m = np.arange(48).reshape(6, 8)
    np.testing.assert_array_equal(border_crop(m, (4, 4)), m[1:5, 2:6])
    with pytest.raises(BadInputError, match="even"):
        border_crop(m, (5, 4))
    with pytest.raises(BadInputError):
        border_crop(m, (8, 8))
    planes = pack(M)
    np.testing.assert_array_equal(planes[:, 0, 0], [10, 20, 70, 50])  # (0,0), (0,1), (1,1), (1,0)
    np.testing.assert_array_equal(planes[:, 1, 1], [60, 80, 70, 50])


def test_read_dng_fixture(tmp_path):
    mosaic = np.random.default_rng(0).integers(0, 2 ** 14, (24, 32)).astype(np.uint16)
    raw = read_raw(write_dng(tmp_path / "a.ARW", mosaic, "GRBG", black=600, white=15000))
    np.testing.assert_array_equal(raw.mosaic, mosaic)
    assert (raw.black_level, raw.white_level, raw.cfa_pattern) == ((600,) * 4, 15000, "GRBG")
    # one black level per block position, in the order of cfa_pattern (LibRaw lists them by colour: R, G, B, G2)
    raw = read_raw(write_dng(tmp_path / "b.ARW", mosaic, "GRBG", black=(500, 510, 520, 530)))
    assert raw.black_level == (500, 510, 520, 530)
    np.testing.assert_array_equal(raw.black_block, [[500, 510], [520, 530]])


def test_real_camera_dng():
    raw = read_raw(CANON)
    assert raw.mosaic.shape == (1156, 1734) and raw.cfa_pattern == "RGGB"
    assert raw.black_level == (2056,) * 4 and raw.white_level == 15000
    rgb = demosaic(raw.mosaic, raw.cfa_pattern)
    np.testing.assert_array_equal(rgb[0, ::2, ::2], raw.mosaic[::2, ::2])  # red sites keep their own value
    np.testing.assert_array_equal(pack(raw.mosaic)[2], raw.mosaic[1::2, 1::2])


def test_uniform_colour_scale():
    # a uniform RGGB image demosaics to exact channel values; the official scale maps 16383 -> 255
    raw = RawImage(np.tile(np.array([[300, 600], [600, 900]], np.uint16), (3, 3)), (0,) * 4, 16383, "RGGB")
    assert tuple(demosaic(raw.mosaic)[:, 2, 3]) == (300, 600, 900)
    assert abs(np.float32(16383) / RAW_SCALE - 255) < 1e-4


@settings(max_examples=25, deadline=None)
@given(st.integers(2, 40), st.integers(2, 40), st.integers(1, 40), st.integers(1, 40), st.integers(0, 99))
def test_resize_integer_fast_path_equals_checked_path(h, w, oh, ow, seed):
    image = np.random.default_rng(seed).integers(0, 2 ** 16, (h, w, 3)).astype(np.uint16)
    np.testing.assert_array_equal(resize_bilinear(image, (oh, ow)), resize_bilinear(image.astype(np.float32), (oh, ow)))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(1, 12), st.integers(1, 40), st.integers(1, 4), st.integers(0, 3),
       st.integers(0, 99))
def test_column_sampling_exact_rows_and_crop_origin_equal_the_checked_path(h, ow, oh, k, border, seed):
    # An integer column scale samples columns; integer rows then sum exactly (no tie check); the origin/size
    # region equals resizing the cropped copy. The float32 input takes the general, tie-checked path.
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 2 ** 16, (h + 2 * border, k * ow + 2 * border, 3)).astype(np.uint16)
    image[::3] = 2 ** 16 - 1
    region = image[border:border + h, border:border + k * ow]
    expected = resize_bilinear(region.astype(np.float32), (oh, ow))
    got = resize_bilinear(image, (oh, ow), origin=(border, border), size=(h, k * ow))
    np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))
