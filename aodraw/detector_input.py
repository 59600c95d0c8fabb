"""What an AODRaw detector sees: a stored RAW array rendered as the official training loaders render it.

Downsampled RAW (``images_downsampled_raw``, float32 3 x H x W in [0, 255]) and packed Bayer slices
(``images_slice_raw``, float32 4 x h x w of raw values) become H x W x 3 float32 BGR images with the loader's gamma
(x -> 255 * (x / 255) ** gamma). Slices are unpacked and demosaiced back to full resolution first. Upstream does not
rescale slices to [0, 255] before the gamma (the quirk is the default; ``normalise_slices=True`` fixes it).
The RAW pre-training renders its synthetic RAW with this same function, so both see one distribution.
"""
from __future__ import annotations

import numpy as np

from aodraw.raw import PACK_ORDER, RAW_MAX, RAW_SCALE, demosaic
from plumbing.errors import BadInputError

DEFAULT_GAMMA = 1 / 2.2


def unpack(planes: np.ndarray) -> np.ndarray:
    """The RGGB mosaic (2h x 2w) of 4 planes in the official order (0,0), (0,1), (1,1), (1,0); inverse of ``pack``."""
    if planes.ndim != 3 or planes.shape[0] != 4:
        raise BadInputError(f"a Bayer pack must be 4 x h x w, got shape {planes.shape}")
    _, h, w = planes.shape
    mosaic = np.empty((2 * h, 2 * w), planes.dtype)
    for plane, (dy, dx) in zip(planes, PACK_ORDER):
        mosaic[dy::2, dx::2] = plane
    return mosaic


def demosaic_pack(planes: np.ndarray) -> np.ndarray:
    """A packed Bayer array (raw values, any dtype holding integers 0..2^14-1) as float32 3 x 2h x 2w RGB."""
    mosaic = unpack(planes)
    if mosaic.dtype != np.uint16:
        values = np.asarray(mosaic, np.float64)
        if not np.isfinite(values).all() or values.min(initial=0) < 0 or values.max(initial=0) > RAW_MAX:
            raise BadInputError("a Bayer pack must hold raw values in [0, 2^14 - 1]")
        if not np.array_equal(values, np.rint(values)):
            raise BadInputError("a Bayer pack must hold whole raw values")
        mosaic = values.astype(np.uint16)
    return demosaic(mosaic)


def apply_gamma(image: np.ndarray, gamma: float | None = DEFAULT_GAMMA) -> np.ndarray:
    """255 * (image / 255) ** gamma in float32 (negative values clipped to 0); ``None`` or 1 leaves it as is."""
    image = np.asarray(image, np.float32)
    if gamma is None or gamma == 1:
        return image
    return np.float32(255) * np.power(np.maximum(image, 0) / np.float32(255), np.float32(gamma))


def render_raw(array: np.ndarray, gamma: float | None = DEFAULT_GAMMA, normalise_slices: bool = False,
               bgr: bool = True) -> np.ndarray:
    """A stored RAW array (3 x H x W downsampled, or 4 x h x w packed slice) as the detector's H x W x 3 float32."""
    if array.ndim != 3 or array.shape[0] not in (3, 4):
        raise BadInputError(f"a RAW array must be 3 x H x W or 4 x h x w, got shape {array.shape}")
    if array.shape[0] == 4:
        rgb = demosaic_pack(array)
        if normalise_slices:
            rgb /= RAW_SCALE
    else:
        rgb = np.asarray(array, np.float32)
    hwc = rgb.transpose(1, 2, 0)
    if bgr:
        hwc = hwc[..., ::-1]
    return np.ascontiguousarray(apply_gamma(hwc, gamma))


def render_bayer(planes: np.ndarray, black: float | np.ndarray = 0.0, white: float = RAW_MAX,
                 gamma: float | None = DEFAULT_GAMMA, upsample: int = 2) -> np.ndarray:
    """A packed Bayer array (4 x h x w raw values, ``aodraw convert bayer``) as the 4-channel input of the
    packed-Bayer stem: float32 (upsample*h) x (upsample*w) x 4, planes in stored order, black-subtracted (``black``:
    one value or one per plane), scaled to [0, 255] by ``white - black`` (clipped), the loader's gamma, then resized
    by ``upsample`` with OpenCV's bilinear rule (2: a ``--downsample 3`` pack back to the 1/3 images' frame, where
    the boxes are). Raises BadInputError for another shape."""
    import cv2

    if planes.ndim != 3 or planes.shape[0] != 4:
        raise BadInputError(f"a Bayer pack must be 4 x h x w, got shape {planes.shape}")
    black = np.asarray(black, np.float32).reshape(-1, 1, 1)
    scale = np.float32(255) / np.maximum(np.float32(white) - black, np.float32(1))
    hwc = np.clip((planes.astype(np.float32) - black) * scale, 0, 255).transpose(1, 2, 0)
    hwc = apply_gamma(hwc, gamma)
    if upsample != 1:
        h, w = hwc.shape[:2]
        hwc = cv2.resize(hwc, (w * upsample, h * upsample), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(hwc, dtype=np.float32)
