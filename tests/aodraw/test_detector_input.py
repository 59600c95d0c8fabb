"""The detector's view of stored RAW arrays: unpacking, slice demosaic, gamma, channel order and the slice quirk."""
import numpy as np
import pytest

from aodraw.detector_input import apply_gamma, demosaic_pack, render_raw, unpack
from aodraw.raw import RAW_SCALE, demosaic, pack
from plumbing.errors import BadInputError


@pytest.fixture
def mosaic():
    return np.random.default_rng(1).integers(0, 2 ** 14, (10, 14)).astype(np.uint16)


def test_unpack_inverts_pack(mosaic):
    assert np.array_equal(unpack(pack(mosaic)), mosaic)


def test_slice_is_demosaiced_at_full_resolution_without_rescale_by_default(mosaic):
    planes = pack(mosaic).astype(np.float32)  # as stored in images_slice_raw
    out = render_raw(planes, gamma=None)
    rgb = demosaic(mosaic)
    assert out.shape == (10, 14, 3)
    assert np.array_equal(out[..., 0], rgb[2]) and np.array_equal(out[..., 2], rgb[0])  # BGR
    assert out.max() > 255  # the upstream quirk: raw values reach the gamma unscaled
    fixed = render_raw(planes, gamma=None, normalise_slices=True)
    np.testing.assert_allclose(fixed, out / RAW_SCALE, rtol=1e-6)
    assert fixed.max() <= 255.0001


def test_gamma_on_the_255_scale():
    image = np.array([[[0, 255 / 4, 255]]], np.float32).transpose(2, 0, 1)  # 3 x 1 x 1, RGB
    out = render_raw(image)  # BGR
    np.testing.assert_allclose(out[0, 0], [255, 255 * 0.25 ** (1 / 2.2), 0], rtol=1e-6)
    assert render_raw(image, gamma=None, bgr=False)[0, 0].tolist() == [0, 255 / 4, 255]
    assert apply_gamma(np.float32([-1.0]))[0] == 0


@pytest.mark.parametrize("bad", [np.zeros((2, 4, 4)), np.zeros((4, 4)), np.full((4, 2, 2), 0.5),
                                 np.full((4, 2, 2), 2.0 ** 15)])
def test_bad_arrays_are_refused(bad):
    with pytest.raises(BadInputError):
        render_raw(bad)


def test_integer_valued_float_pack_equals_uint16(mosaic):
    assert np.array_equal(demosaic_pack(pack(mosaic).astype(np.float32)), demosaic(mosaic))
