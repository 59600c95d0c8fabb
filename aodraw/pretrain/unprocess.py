"""Unprocessing (Brooks et al., CVPR 2019): a plausible 14-bit RGGB mosaic of an sRGB image, in NumPy.

The camera pipeline the paper inverts, forward: white balance and brightness gains on camera RGB, colour correction
to linear sRGB, gamma 1/2.2, a smoothstep tone curve. Unprocessing runs each step backwards (inverse smoothstep,
gamma 2.2, camera RGB <- sRGB, gains divided out with highlights kept), samples the RGGB sites, adds shot and read
noise (variance = shot * signal + read, signal in [0, 1] above black) and quantises with the camera's black level.
Images are float H x W x 3 RGB in [0, 1]; a mosaic is H x W (H, W even). ``unprocess_torch`` is the batched twin.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from aodraw.pretrain.camera import Camera
from aodraw.raw import mosaic_rggb
from plumbing.errors import BadInputError

GAMMA = 2.2
EPS = 1e-8
HIGHLIGHT_START = 0.9  # grey level above which the inverse gains fade out so saturated highlights stay saturated


@dataclass(frozen=True)
class UnprocessParams:
    """The random draw for one image: colour matrix (camera RGB <- linear sRGB), gains and noise levels."""

    rgb_to_camera: np.ndarray
    red_gain: float
    blue_gain: float
    brightness_gain: float
    shot: float
    read: float
    black_level: int
    white_level: int

    def gains(self) -> np.ndarray:
        """Per-channel forward gains (R, G, B): white balance times brightness."""
        return np.array([self.red_gain, 1.0, self.blue_gain]) * self.brightness_gain


def draw_params(camera: Camera, rng: np.random.Generator) -> UnprocessParams:
    """Gains and noise levels drawn as Brooks et al.: brightness 1 / N(mean, std), white balance uniform in the
    camera's ranges, log shot uniform, log read linear in log shot plus Gaussian scatter."""
    brightness = 1.0 / max(rng.normal(camera.brightness_mean, camera.brightness_std), 0.1)
    red, blue = rng.uniform(*camera.red_gain_range), rng.uniform(*camera.blue_gain_range)
    log_shot = rng.uniform(*camera.log_shot_range)
    log_read = camera.read_slope * log_shot + camera.read_intercept + rng.normal(0.0, camera.read_sigma)
    return UnprocessParams(camera.rgb_to_camera(), float(red), float(blue), float(brightness),
                           float(np.exp(log_shot)), float(np.exp(log_read)), camera.black_level, camera.white_level)


def image_rng(seed: int, name: str) -> np.random.Generator:
    """The generator of one image: a function of the seed and the image name only (not of order or worker)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return np.random.default_rng([seed, *np.frombuffer(digest[:16], np.uint32).tolist()])


def tone_map(x: np.ndarray) -> np.ndarray:
    """The smoothstep curve 3x^2 - 2x^3 on [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return 3.0 * x ** 2 - 2.0 * x ** 3


def inverse_tone_map(y: np.ndarray) -> np.ndarray:
    """The inverse smoothstep 1/2 - sin(asin(1 - 2y) / 3)."""
    y = np.clip(y, 0.0, 1.0)
    return 0.5 - np.sin(np.arcsin(1.0 - 2.0 * y) / 3.0)


def gamma_compress(x: np.ndarray) -> np.ndarray:
    """Gamma 1/2.2 on linear values (clamped below at 1e-8), as Brooks et al.'s ``gamma_compression``."""
    return np.maximum(x, EPS) ** (1.0 / GAMMA)


def gamma_expand(y: np.ndarray) -> np.ndarray:
    """Gamma 2.2 (the inverse of ``gamma_compress``; values clamped below at 1e-8), as Brooks et al.'s inverse step."""
    return np.maximum(y, EPS) ** GAMMA


def apply_ccm(image: np.ndarray, ccm: np.ndarray) -> np.ndarray:
    """``ccm @ pixel`` for every pixel of H x W x 3."""
    return image @ np.asarray(ccm, image.dtype).T


def apply_gains(image: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """``image`` (H x W x 3) times per-channel ``gains`` (R, G, B) in the image's dtype: the forward white
    balance and brightness."""
    return image * np.asarray(gains, image.dtype)


def inverse_gains(image: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Divide the gains out, except in highlights: above grey 0.9 the factor fades towards 1 (never below
    1 / gain), so bright areas do not turn into a dim grey (the paper's highlight-preserving inversion)."""
    inverse = (1.0 / np.asarray(gains, np.float64)).astype(image.dtype)
    grey = image.mean(axis=-1, keepdims=True)
    fade = (np.maximum(grey - HIGHLIGHT_START, 0.0) / (1.0 - HIGHLIGHT_START)) ** 2
    return image * np.maximum(fade + (1.0 - fade) * inverse, inverse)


def add_noise(signal: np.ndarray, shot: float, read: float, normal: np.ndarray) -> np.ndarray:
    """``signal + sqrt(shot * signal + read) * normal`` (Gaussian approximation of Poisson-Gaussian noise)."""
    return signal + np.sqrt(np.maximum(shot * signal + read, 0.0)) * normal


def quantise(signal: np.ndarray, black_level: int, white_level: int) -> np.ndarray:
    """Signal in [0, 1] above black -> integer raw values (uint16), black level added, clipped to [0, white]."""
    raw = np.rint(signal * (white_level - black_level) + black_level)
    return np.clip(raw, 0, white_level).astype(np.uint16)


def linearise(raw: np.ndarray, black_level: int, white_level: int) -> np.ndarray:
    """Raw values -> signal above black in [0, 1] units (the inverse of ``quantise`` up to rounding)."""
    return (raw.astype(np.float32) - black_level) / np.float32(white_level - black_level)


def unprocess_rgb(srgb: np.ndarray, params: UnprocessParams) -> np.ndarray:
    """sRGB H x W x 3 in [0, 1] -> clean linear camera RGB in [0, 1] (before mosaic and noise)."""
    linear = gamma_expand(inverse_tone_map(srgb))
    camera = apply_ccm(linear, params.rgb_to_camera)
    return np.clip(inverse_gains(camera, params.gains()), 0.0, 1.0)


def process_rgb(camera: np.ndarray, params: UnprocessParams) -> np.ndarray:
    """The forward pipeline: linear camera RGB -> sRGB in [0, 1] (gains, colour correction, gamma, tone curve)."""
    linear = apply_ccm(apply_gains(camera, params.gains()), np.linalg.inv(params.rgb_to_camera))
    return tone_map(gamma_compress(np.clip(linear, 0.0, 1.0)))


def unprocess(srgb: np.ndarray, params: UnprocessParams, rng: np.random.Generator | None = None,
              normal: np.ndarray | None = None) -> np.ndarray:
    """sRGB H x W x 3 in [0, 1] (H, W even) -> noisy uint16 RGGB mosaic H x W with the camera's black level.
    The standard-normal noise comes from ``normal`` (H x W) or is drawn from ``rng``."""
    if srgb.ndim != 3 or srgb.shape[2] != 3 or srgb.shape[0] % 2 or srgb.shape[1] % 2:
        raise BadInputError(f"unprocess needs an H x W x 3 image with even sides, got shape {srgb.shape}")
    clean = mosaic_rggb(unprocess_rgb(np.asarray(srgb, np.float32), params))
    if normal is None:
        normal = rng.standard_normal(clean.shape, np.float32)
    noisy = add_noise(clean, np.float32(params.shot), np.float32(params.read), normal)
    return quantise(noisy, params.black_level, params.white_level)
