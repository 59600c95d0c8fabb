"""Camera parameters of the synthetic RAW: colour matrix, white-balance range, levels and the noise model.

Defaults describe the AODRaw camera. The paper names a Sony camera; its 6000 x 4000 frames (6048 x 4024 RAW, 14-bit
ARW) match a 24 MP full-frame Sony, so the colour matrix is the Adobe DNG ColorMatrix of the Sony ILCE-7M3 (D65,
XYZ -> camera, as in dcraw's/LibRaw's ``adobe_coeff`` table: 7374 -2389 -551 / -5435 13162 2519 / -1006 1795 6552,
divided by 10000), the levels are those of 14-bit ARWs (black 512, white 16383), and the white-balance and noise
ranges are the ones Brooks et al. 2019 draw from. ``aodraw pretrain calibrate`` measures them from real files.

Noise model (signal in [0, 1] above black, 1 = white level): variance = shot * signal + read, with
log(read) = read_slope * log(shot) + read_intercept + N(0, read_sigma), log(shot) uniform in log_shot_range.
"""
from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, fields

import numpy as np

from plumbing.errors import BadInputError
from plumbing.files import write_json
from plumbing.jsonio import read_json

# sRGB (linear, D65) -> XYZ, IEC 61966-2-1.
SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
SONY_ILCE_7M3_XYZ_TO_CAMERA = ((0.7374, -0.2389, -0.0551),
                               (-0.5435, 1.3162, 0.2519),
                               (-0.1006, 0.1795, 0.6552))


@dataclass(frozen=True)
class Camera:
    """Everything the unprocessing draws from. Gains are relative to green (camera RGB multipliers)."""

    name: str = "Sony ILCE-7M3 (AODRaw default)"
    xyz_to_camera: tuple[tuple[float, float, float], ...] = SONY_ILCE_7M3_XYZ_TO_CAMERA
    red_gain_range: tuple[float, float] = (1.9, 2.4)
    blue_gain_range: tuple[float, float] = (1.5, 1.9)
    # The overall brightness gain is 1 / N(mean, std): the image is darkened by about 0.8 before white balance.
    brightness_mean: float = 0.8
    brightness_std: float = 0.1
    black_level: int = 512
    white_level: int = 16383
    log_shot_range: tuple[float, float] = (math.log(1e-4), math.log(0.012))
    read_slope: float = 2.18
    read_intercept: float = 1.20
    read_sigma: float = 0.26

    def __post_init__(self):
        _validate(self)

    def rgb_to_camera(self) -> np.ndarray:
        """Camera RGB <- linear sRGB (3 x 3, float64), rows normalised to sum 1 so white stays white."""
        matrix = np.asarray(self.xyz_to_camera, np.float64) @ SRGB_TO_XYZ
        return matrix / matrix.sum(axis=1, keepdims=True)

    def to_dict(self) -> dict:
        """The camera as a JSON-ready dict of its fields (the matrix as nested lists), as ``read_camera`` reads it."""
        return {k: [list(r) for r in v] if k == "xyz_to_camera" else v for k, v in asdict(self).items()}


def _validate(camera: Camera) -> None:
    def bad(field: str, why: str):
        raise BadInputError(f"camera field {field!r}: {why}, got {getattr(camera, field)!r}")

    matrix = np.asarray(camera.xyz_to_camera, dtype=object)
    if matrix.shape != (3, 3) or not all(_is_number(v) for v in matrix.ravel()):
        bad("xyz_to_camera", "expected a 3 x 3 matrix of numbers")
    rows = np.asarray(camera.xyz_to_camera, np.float64) @ SRGB_TO_XYZ
    if abs(np.linalg.det(rows)) < 1e-9 or (rows.sum(axis=1) <= 0).any():
        bad("xyz_to_camera", "singular, or a row that maps white to a non-positive value")
    for name in ("red_gain_range", "blue_gain_range", "log_shot_range"):
        value = getattr(camera, name)
        if not (isinstance(value, tuple | list) and len(value) == 2 and all(_is_number(v) for v in value)
                and value[0] <= value[1]):
            bad(name, "expected [low, high] with low <= high")
    if camera.red_gain_range[0] <= 0 or camera.blue_gain_range[0] <= 0:
        bad("red_gain_range" if camera.red_gain_range[0] <= 0 else "blue_gain_range", "gains must be positive")
    for name in ("brightness_mean", "brightness_std", "read_slope", "read_intercept", "read_sigma"):
        if not _is_number(getattr(camera, name)):
            bad(name, "expected a number")
    if camera.brightness_mean <= 0 or camera.brightness_std < 0 or camera.read_sigma < 0:
        bad("brightness_mean" if camera.brightness_mean <= 0 else
            "brightness_std" if camera.brightness_std < 0 else "read_sigma", "out of range")
    for name in ("black_level", "white_level"):
        if not isinstance(getattr(camera, name), int) or isinstance(getattr(camera, name), bool):
            bad(name, "expected an integer")
    if not 0 <= camera.black_level < camera.white_level <= 2 ** 14 - 1:
        bad("white_level", f"levels must satisfy 0 <= black ({camera.black_level}) < white <= 16383 (14 bits)")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def read_camera(path: str | os.PathLike | None) -> Camera:
    """The camera of a JSON file (fields as ``Camera``; missing fields keep their defaults); None: the defaults."""
    if path is None:
        return Camera()
    doc = read_json(path, "camera")[0]
    if not isinstance(doc, dict):
        raise BadInputError(f"{path}: a camera file must hold a JSON object")
    known = {f.name for f in fields(Camera)}
    unknown = sorted(set(doc) - known)
    if unknown:
        raise BadInputError(f"{path}: unknown camera field {unknown[0]!r}")
    values = {k: tuple(tuple(r) if isinstance(r, list) else r for r in v) if isinstance(v, list) else v
              for k, v in doc.items()}
    try:
        return Camera(**values)
    except BadInputError as exc:
        raise BadInputError(f"{path}: {exc}") from None


def write_camera(path: str | os.PathLike, camera: Camera):
    """Write ``camera`` as a JSON file (``read_camera``'s format), atomically; returns the path written."""
    return write_json(path, camera.to_dict())
