"""Unprocessing maths: each inverse undoes its forward step, mosaic phase, noise statistics, NumPy == torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aodraw.pretrain import unprocess as U
from aodraw.pretrain.camera import Camera
from aodraw.pretrain.unprocess_torch import mosaic_torch, stack_params, unprocess_rgb_torch, unprocess_torch
from aodraw.raw import mosaic_rggb


def params(shot=1e-3, read=1e-5, seed=0) -> U.UnprocessParams:
    drawn = U.draw_params(Camera(), np.random.default_rng(seed))
    return U.UnprocessParams(drawn.rgb_to_camera, drawn.red_gain, drawn.blue_gain, drawn.brightness_gain, shot, read,
                             512, 16383)


@pytest.fixture
def image():
    return np.random.default_rng(1).uniform(0.02, 0.98, (32, 48, 3))


def test_tone_curve_and_gamma_round_trip(image):
    np.testing.assert_allclose(U.tone_map(U.inverse_tone_map(image)), image, atol=1e-9)
    np.testing.assert_allclose(U.inverse_tone_map(U.tone_map(image)), image, atol=1e-7)
    np.testing.assert_allclose(U.gamma_compress(U.gamma_expand(image)), image, atol=1e-12)
    assert U.inverse_tone_map(np.array([0.0, 0.5, 1.0])) == pytest.approx([0, 0.5, 1])


def test_colour_matrix_round_trip_and_white_stays_white(image):
    ccm = Camera().rgb_to_camera()
    np.testing.assert_allclose(U.apply_ccm(U.apply_ccm(image, ccm), np.linalg.inv(ccm)), image, atol=1e-12)
    np.testing.assert_allclose(U.apply_ccm(np.ones((1, 1, 3)), ccm), 1.0)


def test_inverse_gains_undo_gains_below_highlights_and_keep_highlights(image):
    gains = params().gains()
    dim = image * 0.5
    np.testing.assert_allclose(U.apply_gains(U.inverse_gains(dim, gains), gains), dim, atol=1e-12)
    white = np.ones((2, 2, 3))
    np.testing.assert_allclose(U.inverse_gains(white, gains), 1.0)  # saturated stays saturated


def test_full_chain_round_trip(image):
    p = params()
    srgb = image * 0.7  # below the highlight fade and the clipping of the linear camera values
    np.testing.assert_allclose(U.process_rgb(U.unprocess_rgb(srgb, p), p), srgb, atol=2e-6)


def test_mosaic_phase_is_rggb():
    planes = np.zeros((4, 6, 3))
    for c in range(3):
        planes[..., c] = c + 1
    m = mosaic_rggb(planes)
    assert m[0, 0] == 1 and m[0, 1] == 2 and m[1, 0] == 2 and m[1, 1] == 3
    assert (m[0::2, 0::2] == 1).all() and (m[1::2, 1::2] == 3).all() and (m[0::2, 1::2] == 2).all()
    t = mosaic_torch(torch.from_numpy(planes.transpose(2, 0, 1)[None].copy()))[0].numpy()
    np.testing.assert_array_equal(t, m)


def test_quantise_includes_black_level_and_clips():
    raw = U.quantise(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), 512, 16383)
    assert raw.dtype == np.uint16
    assert raw.tolist() == [0, 512, round(512 + 0.5 * 15871), 16383, 16383]
    np.testing.assert_allclose(U.linearise(raw[1:4], 512, 16383), [0, 0.5, 1], atol=1 / 15871)


@pytest.mark.parametrize("shot,read", [(1e-3, 1e-5), (1e-2, 1e-4)])
def test_noise_variance_follows_the_model(shot, read):
    p = params(shot, read)
    grey = np.full((512, 512, 3), 0.45)
    clean = mosaic_rggb(U.unprocess_rgb(grey, p))
    raw = U.unprocess(grey, p, np.random.default_rng(3))
    signal = U.linearise(raw, p.black_level, p.white_level).astype(np.float64)
    for site in ((0, 0), (0, 1), (1, 1)):
        s = clean[site[0]::2, site[1]::2]
        assert np.ptp(s) < 1e-6  # a flat image gives a flat site
        mean, expected = s.mean(), shot * s.mean() + read
        measured = signal[site[0]::2, site[1]::2].var()
        assert measured == pytest.approx(expected + 1 / 12 / 15871 ** 2, rel=0.05)
        assert signal[site[0]::2, site[1]::2].mean() == pytest.approx(mean, abs=3e-4)


def test_draw_params_follow_the_camera_ranges():
    camera = Camera()
    draws = [U.draw_params(camera, np.random.default_rng(i)) for i in range(200)]
    assert all(camera.red_gain_range[0] <= d.red_gain <= camera.red_gain_range[1] for d in draws)
    assert all(camera.blue_gain_range[0] <= d.blue_gain <= camera.blue_gain_range[1] for d in draws)
    log_shot = np.log([d.shot for d in draws])
    assert camera.log_shot_range[0] <= log_shot.min() and log_shot.max() <= camera.log_shot_range[1]
    residual = np.log([d.read for d in draws]) - (camera.read_slope * log_shot + camera.read_intercept)
    assert abs(residual.mean()) < 0.08 and residual.std() == pytest.approx(camera.read_sigma, rel=0.2)


def test_image_rng_depends_on_seed_and_name_only():
    a = U.image_rng(0, "dir/a").random(4)
    np.testing.assert_array_equal(a, U.image_rng(0, "dir/a").random(4))
    assert not np.array_equal(a, U.image_rng(1, "dir/a").random(4))
    assert not np.array_equal(a, U.image_rng(0, "dir/b").random(4))


def test_torch_batch_matches_numpy():
    rng = np.random.default_rng(5)
    draws = [U.draw_params(Camera(), rng) for _ in range(3)]
    images = rng.uniform(0, 1, (3, 40, 56, 3)).astype(np.float32)
    normal = rng.standard_normal((3, 40, 56)).astype(np.float32)
    expected = np.stack([U.unprocess(images[i], draws[i], normal=normal[i]) for i in range(3)]).astype(np.int64)
    batch = torch.from_numpy(images).permute(0, 3, 1, 2)
    stacked = stack_params(draws)
    got = unprocess_torch(batch, stacked, normal=torch.from_numpy(normal)).numpy()
    assert got.dtype == np.int32
    assert np.abs(got - expected).max() <= 1 and (got != expected).mean() < 0.01  # float32 rounding at .5 only
    clean = unprocess_rgb_torch(batch, stacked).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(clean, np.stack([U.unprocess_rgb(images[i], draws[i]) for i in range(3)]), atol=2e-5)
    drawn = unprocess_torch(batch, stacked, generator=torch.Generator().manual_seed(0))
    assert drawn.min() >= 0 and drawn.max() <= 16383


def test_odd_image_is_refused():
    with pytest.raises(ValueError, match="even sides"):
        U.unprocess(np.zeros((5, 4, 3)), params(), np.random.default_rng(0))
