"""RAW decoding and the official AODRaw preprocessing steps as pure array functions.

Conventions: a mosaic is a 2-D uint16 array (H x W, both even); a CFA pattern is a 4-letter string naming the
colours of the 2x2 block positions (0,0), (0,1), (1,0), (1,1), e.g. ``"RGGB"``. Every step reproduces the official
scripts (``lzyhha/AODRaw``) exactly; ``cfa_aware`` variants correct the upstream colour quirk of turned images.
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from plumbing.errors import BadInputError

RAW_MAX = 2 ** 14 - 1
EMPTY_FILE = "empty file (0 bytes): truncated or never written"
# Upstream divides by (2^14 - 1) / 255 on float32 tensors.
RAW_SCALE = np.float32(RAW_MAX / 255.0)
# Packing order of the official slices: block positions (0,0), (0,1), (1,1), (1,0) -> R, G, B, G for RGGB.
PACK_ORDER = ((0, 0), (0, 1), (1, 1), (1, 0))
_CV2_BAYER = {"RGGB": cv2.COLOR_BayerRGGB2RGB, "GRBG": cv2.COLOR_BayerGRBG2RGB,
              "GBRG": cv2.COLOR_BayerGBRG2RGB, "BGGR": cv2.COLOR_BayerBGGR2RGB}
BAYER_PATTERNS = tuple(_CV2_BAYER)  # the 2x2 patterns every step here handles


@dataclass(frozen=True)
class RawImage:
    """The visible mosaic of a RAW file and the metadata the official pipeline ignores but users need.

    ``black_level`` has one value per 2x2 block position, in the order of ``cfa_pattern``: (0,0), (0,1), (1,0),
    (1,1)."""

    mosaic: np.ndarray
    black_level: tuple[int, int, int, int]
    white_level: int
    cfa_pattern: str

    @property
    def black_block(self) -> np.ndarray:
        """The black levels as a 2x2 block laid out like the mosaic's, so ``pack``/``orient`` move them with the
        pixels they belong to."""
        return np.reshape(self.black_level, (2, 2))


def read_raw(path: str | os.PathLike) -> RawImage:
    """Read a 2x2 Bayer RAW file with rawpy/LibRaw: the visible mosaic (no black subtraction), levels, CFA pattern.

    Anything else is a ``BadInputError`` naming the file and the cause: a sensor that is not a 2x2 Bayer mosaic
    (``bayer_pattern``), or a file LibRaw cannot decode (truncated, empty, not a RAW file, ...). What LibRaw prints
    on stderr is captured into that message instead."""
    import rawpy

    path = Path(path)
    with tempfile.TemporaryFile() as said:
        try:
            with _stderr_into(said), rawpy.imread(os.fspath(path)) as raw:
                pattern = bayer_pattern(raw, path.name)
                colours = _first_block(raw).ravel()
                black = tuple(int(raw.black_level_per_channel[c]) for c in colours)
                mosaic = np.array(raw.raw_image_visible, dtype=np.uint16)
                return RawImage(mosaic, black, int(raw.white_level), pattern)
        except rawpy.LibRawError as exc:
            said.seek(0)
            raise BadInputError(f"{path.name}: {_decode_failure(path, exc, said.read())}") from None


def bayer_pattern(raw, name: str) -> str:
    """The 2x2 Bayer pattern (RGGB, BGGR, GRBG or GBRG) of the visible mosaic of an open ``rawpy.RawPy``; any
    other sensor layout is a ``BadInputError`` naming the file ``name`` and what LibRaw found."""
    import rawpy

    def not_bayer(found: str) -> BadInputError:
        return BadInputError(f"{name}: {found}, not a 2x2 Bayer mosaic")

    if raw.raw_type != rawpy.RawType.Flat:
        raise not_bayer("demosaiced full-colour image (e.g. a LinearRaw DNG)")
    repeat = raw.raw_pattern
    if repeat.size == 1:
        raise not_bayer("monochrome sensor (no colour filter array)")
    desc = raw.color_desc.decode()
    if not {desc[c] for c in repeat.ravel()} <= set("RGB"):
        raise not_bayer(f"{raw.num_colors}-colour CFA ({desc})")
    if repeat.shape == (6, 6):
        raise not_bayer("X-Trans 6x6 CFA")
    if repeat.shape != (2, 2):
        raise not_bayer(f"{repeat.shape[0]}x{repeat.shape[1]} CFA")
    pattern = "".join(desc[c] for c in _first_block(raw).ravel())
    if pattern not in _CV2_BAYER:
        raise not_bayer(f"2x2 CFA {pattern}")
    return pattern


def _first_block(raw) -> np.ndarray:
    """The colour indices of the top-left 2x2 block of the visible mosaic: ``raw.raw_colors_visible[:2, :2]``
    without rawpy building that colour array for the whole frame (its pattern tiled from the frame's origin)."""
    repeat, sizes = raw.raw_pattern, raw.sizes
    rows = (sizes.top_margin + np.arange(2)) % repeat.shape[0]
    cols = (sizes.left_margin + np.arange(2)) % repeat.shape[1]
    return repeat[np.ix_(rows, cols)]


@contextmanager
def _stderr_into(file) -> Iterator[None]:
    """Send what is written to file descriptor 2 (LibRaw's C messages) into ``file`` instead."""
    sys.stderr.flush()
    saved = os.dup(2)
    os.dup2(file.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _decode_failure(path: Path, exc: Exception, said: bytes) -> str:
    """The plain cause of a rawpy error; ``said``: what LibRaw printed (``PATH: message`` lines)."""
    import rawpy

    lines = said.decode(errors="replace").strip().splitlines()
    detail = lines[-1].removeprefix(f"{os.fspath(path)}: ") if lines else ""
    if isinstance(exc, rawpy.LibRawIOError):
        if path.stat().st_size == 0:
            return EMPTY_FILE
        if detail == "Unexpected end of file":
            return "truncated: the file ends before its RAW data does (LibRaw: unexpected end of file)"
        return "truncated or unreadable: LibRaw could not read it to the end"
    if isinstance(exc, rawpy.LibRawFileUnsupportedError):
        return "not a RAW file LibRaw can read (unknown or unsupported format)"
    message = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
    return f"LibRaw cannot decode it: {message[:1].lower()}{message[1:]}" + (f" ({detail})" if detail else "")


def resolve_orientation(jpg_hw: tuple[int, int], raw_hw: tuple[int, int], exif_orientation: int | None) -> int:
    """The official orientation rule: 1 (nothing) or 8 (turned). ``jpg_hw`` is the displayed JPG size.

    Aspect ratios that disagree mean orientation 8 (taken as such when the JPG has no tag); any other tag value,
    a tag 1 with disagreeing aspects or a tag 8 with agreeing aspects is refused (upstream asserts)."""
    disagree = (jpg_hw[0] - jpg_hw[1]) * (raw_hw[0] - raw_hw[1]) < 0
    if exif_orientation is None:
        return 8 if disagree else 1
    if exif_orientation not in (1, 8):
        raise BadInputError(f"EXIF orientation {exif_orientation} is not supported (only 1 and 8)")
    if disagree != (exif_orientation == 8):
        raise BadInputError(f"EXIF orientation {exif_orientation} contradicts the sizes: JPG {jpg_hw[0]}x"
                            f"{jpg_hw[1]}, RAW {raw_hw[0]}x{raw_hw[1]} (height x width)")
    return exif_orientation


def orient(image: np.ndarray, orientation: int) -> np.ndarray:
    """Apply orientation to the first two axes: 8 = mirror left-right, then transpose (a quarter turn
    counter-clockwise; a contiguous copy)."""
    if orientation == 1:
        return image
    if image.ndim <= 3 and image.dtype in (np.uint8, np.uint16, np.float32):
        return cv2.rotate(np.ascontiguousarray(image), cv2.ROTATE_90_COUNTERCLOCKWISE)
    return np.ascontiguousarray(np.swapaxes(image[:, ::-1], 0, 1))


def turned_pattern(pattern: str, orientation: int) -> str:
    """The CFA pattern of a mosaic after ``orient`` (for an even width): RGGB turns into GBRG."""
    if orientation == 1:
        return pattern
    block = np.array(list(pattern)).reshape(2, 2)
    return "".join(orient(block, 8).ravel())


def border_offsets(sizes: tuple[int, ...], target_hw: tuple[int, ...]) -> tuple[int, ...]:
    """Where the equal-border crop of ``sizes`` to ``target_hw`` starts; each border difference must be even."""
    for size, target in zip(sizes, target_hw):
        if size < target or (size - target) % 2:
            raise BadInputError(f"cannot crop size {size} to {target}: the RAW must be larger by an even number "
                                "of pixels")
    return tuple((size - target) // 2 for size, target in zip(sizes, target_hw))


def border_crop(image: np.ndarray, target_hw: tuple[int, int], axes: tuple[int, int] = (0, 1)) -> np.ndarray:
    """Crop equal borders so the size along ``axes`` becomes ``target_hw``; each border difference must be even."""
    index = [slice(None)] * image.ndim
    starts = border_offsets(tuple(image.shape[a] for a in axes), target_hw)
    for axis, start, target in zip(axes, starts, target_hw):
        index[axis] = slice(start, start + target)
    return image[tuple(index)]


def pack(mosaic: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """The 4 half-resolution planes (4 x H/2 x W/2) in the official order (0,0), (0,1), (1,1), (1,0) of an RGGB
    block: R, G (red row), B, G (blue row). For another Bayer ``pattern`` the block positions move so the planes
    keep these colours."""
    _check_mosaic(mosaic)
    ry, rx = divmod(pattern.index("R"), 2)
    return np.stack([mosaic[ry ^ dy::2, rx ^ dx::2] for dy, dx in PACK_ORDER])


def mosaic_rggb(image: np.ndarray) -> np.ndarray:
    """The RGGB samples of an H x W x 3 RGB image as an H x W mosaic: R at (0, 0), G at (0, 1) and (1, 0), B at
    (1, 1) of each 2x2 block."""
    out = image[..., 1].copy()
    out[0::2, 0::2] = image[0::2, 0::2, 0]
    out[1::2, 1::2] = image[1::2, 1::2, 2]
    return out


def plane_colours(pattern: str, orientation: int = 1) -> str:
    """Colours of the planes ``pack(orient(mosaic), "RGGB")`` gives (the official slices): "RGBG" unless the
    turned mosaic is no longer RGGB."""
    turned = turned_pattern(pattern, orientation)
    return "".join(turned[2 * dy + dx] for dy, dx in PACK_ORDER)


def displayed_planes(mosaic: np.ndarray, pattern: str, orientation: int, cfa_aware: bool = False) -> np.ndarray:
    """The packed planes (H/2 x W/2 x 4) in the displayed frame. Default: the official slices' packing of the
    turned mosaic (colours ``plane_colours``); ``cfa_aware``: packed on the sensor as R, G, B, G, then turned."""
    _check_mosaic(mosaic)
    turned = orient(mosaic, orientation)
    sites = plane_sites(pattern, orientation, cfa_aware)
    return np.stack([turned[dy::2, dx::2] for dy, dx in sites]).transpose(1, 2, 0)


def plane_sites(pattern: str, orientation: int, cfa_aware: bool = False) -> tuple[tuple[int, int], ...]:
    """Where the samples of each plane of ``displayed_planes`` lie in the 2x2 blocks of the turned mosaic
    ``orient(mosaic, orientation)``, as (row, column) in the block: plane k of block (i, j) is turned pixel
    (2i + row, 2j + column). A block position (a, b) on the sensor turns into (1 - b, a)."""
    if not cfa_aware:
        return PACK_ORDER
    ry, rx = divmod(pattern.index("R"), 2)
    sites = tuple((ry ^ dy, rx ^ dx) for dy, dx in PACK_ORDER)
    return sites if orientation == 1 else tuple((1 - b, a) for a, b in sites)


def displayed_mosaic(mosaic: np.ndarray, orientation: int, target_hw: tuple[int, int]) -> np.ndarray:
    """The mosaic turned into the displayed frame and border-cropped to ``target_hw`` (even) in whole 2x2 blocks:
    the pixels of ``border_crop(displayed_planes(...), target_hw / 2)``, unpacked (a view where no turn is
    needed). Raises BadInputError when the planes cannot be cropped so."""
    _check_mosaic(mosaic)
    turned = orient(mosaic, orientation)
    oy, ox = border_offsets((turned.shape[0] // 2, turned.shape[1] // 2), (target_hw[0] // 2, target_hw[1] // 2))
    return turned[2 * oy:2 * oy + target_hw[0], 2 * ox:2 * ox + target_hw[1]]


def _check_mosaic(mosaic: np.ndarray) -> None:
    if mosaic.ndim != 2 or mosaic.shape[0] % 2 or mosaic.shape[1] % 2 or min(mosaic.shape) < 2:
        raise BadInputError(f"a mosaic must be 2-D with even sides, got shape {mosaic.shape}")


def demosaic_x4(mosaic: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """Bilinear 3x3 demosaic (pytorch-debayer's Debayer3x3) as H x W x 3 (RGB) uint16 holding 4x the values.

    Every value is a pixel, a mean of 2 or a mean of 4 integers, so 4x the result is an exact integer: the
    demosaic runs in OpenCV on 4x the mosaic (exact, 14-bit input only) and the one-pixel border, where
    Debayer3x3 pads by reflection, is recomputed exactly."""
    _check_mosaic(mosaic)
    if pattern not in _CV2_BAYER:
        raise BadInputError(f"unsupported CFA pattern {pattern!r}")
    if mosaic.max(initial=0) > RAW_MAX:
        raise BadInputError(f"RAW values above 14 bits (max {int(mosaic.max())}); the official pipeline asserts")
    out = cv2.cvtColor(np.ascontiguousarray(mosaic, dtype=np.uint16) << 2, _CV2_BAYER[pattern])
    h, w = mosaic.shape
    out[:1] = _demosaic_reference(mosaic[:2], pattern)[:1]
    out[-1:] = _demosaic_reference(mosaic[h - 2:], pattern)[-1:]
    out[:, :1] = _demosaic_reference(mosaic[:, :2], pattern)[:, :1]
    out[:, -1:] = _demosaic_reference(mosaic[:, w - 2:], pattern)[:, -1:]
    return out


def demosaic(mosaic: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """Bilinear 3x3 demosaic as float32 3 x H x W (RGB), the values Debayer3x3 gives."""
    return np.ascontiguousarray(demosaic_x4(mosaic, pattern).transpose(2, 0, 1), dtype=np.float32) * 0.25


def demosaic_x4_wide(mosaic: np.ndarray, pattern: str = "RGGB") -> np.ndarray:
    """``demosaic_x4`` for mosaics deeper than 14 bits (up to 29, e.g. ROD's 24-bit HDR sensor): the same
    Debayer3x3 values, 4x, as int32 H x W x 3 (RGB), computed in NumPy (slower than the OpenCV path)."""
    _check_mosaic(mosaic)
    if pattern not in _CV2_BAYER:
        raise BadInputError(f"unsupported CFA pattern {pattern!r}")
    if mosaic.max(initial=0) >= 2 ** 29:
        raise BadInputError(f"RAW values above 29 bits (max {int(mosaic.max())}) cannot be demosaiced exactly")
    return _demosaic_reference(mosaic, pattern, np.int32)


def _demosaic_reference(mosaic: np.ndarray, pattern: str, dtype=np.uint16) -> np.ndarray:
    """Plain NumPy Debayer3x3 with reflection padding, 4x values as ``dtype`` H x W x 3 (uint16: the borders of
    ``demosaic_x4``; int32: ``demosaic_x4_wide``)."""
    p = np.pad(mosaic.astype(np.int32), 1, mode="reflect")
    h, w = mosaic.shape
    out = np.empty((h, w, 3), np.int32)
    channel = {"R": 0, "G": 1, "B": 2}
    for dy in (0, 1):
        for dx in (0, 1):
            def at(oy, ox, dy=dy, dx=dx):
                return p[1 + dy + oy:1 + dy + oy + h:2, 1 + dx + ox:1 + dx + ox + w:2]

            colour = pattern[2 * dy + dx]
            site = out[dy::2, dx::2]
            site[..., channel[colour]] = 4 * at(0, 0)
            if colour == "G":
                site[..., channel[pattern[2 * dy + 1 - dx]]] = 2 * (at(0, -1) + at(0, 1))
                site[..., channel[pattern[2 * (1 - dy) + dx]]] = 2 * (at(-1, 0) + at(1, 0))
            else:
                site[..., 1] = at(-1, 0) + at(1, 0) + at(0, -1) + at(0, 1)
                site[..., channel["B" if colour == "R" else "R"]] = at(-1, -1) + at(-1, 1) + at(1, -1) + at(1, 1)
    return out.astype(dtype, copy=False)


def fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray, exact_sum: bool = False) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c`` (a fused multiply-add, as the compiled torch kernels do).

    The float64 product of two float32 (or 16-bit integer) values is exact; the float64 sum is rounded once more,
    which matters only where it lands exactly halfway between two float32 values: there the exact remainder breaks
    the tie. ``exact_sum``: the caller knows the float64 sum is exact (no check needed)."""
    p = np.asarray(np.multiply(a, b, dtype=np.float64))
    s = np.add(p, c, out=p) if p.shape == np.broadcast_shapes(p.shape, np.shape(c)) else p + c
    out = s.astype(np.float32)
    if exact_sum:
        return out
    tie = (s.view(np.int64) & 0x1FFFFFFF) == 0x10000000
    if tie.any():
        p = np.multiply(a, b, dtype=np.float64)
        p, c, s = np.broadcast_to(p, s.shape)[tie], np.broadcast_to(c, s.shape)[tie].astype(np.float64), s[tie]
        t = s - p
        rest = (p - (s - t)) + (c - t)
        out[tie] = np.nextafter(s, s + np.sign(rest)).astype(np.float32)
    return out


def _linear_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Source indices and weights of torch's bilinear resize (align_corners=False) in float32, source position
    ``scale * (i + 0.5) - 0.5`` fused as torch computes it."""
    scale = np.float32(in_size) / np.float32(out_size)
    centres = np.arange(out_size, dtype=np.float32) + np.float32(0.5)
    src = np.maximum(fma32(np.full(out_size, scale), centres, np.float32(-0.5)), np.float32(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    w1 = np.clip(src - i0.astype(np.float32), np.float32(0), np.float32(1))
    i1 = i0 + (i0 < in_size - 1)
    return i0, i1, np.float32(1) - w1, w1


def resize_bilinear(image: np.ndarray, out_hw: tuple[int, int], block: int = 32, origin: tuple[int, int] = (0, 0),
                    size: tuple[int, int] | None = None) -> np.ndarray:
    """Resize H x W (x C) to out_hw exactly as torch's CPU ``F.interpolate(mode='bilinear', align_corners=False)``
    (no antialiasing, half-pixel centres): per row ``t = fma(x0, wx0, x1 * wx1)``, then
    ``out = fma(t0, wy0, t1 * wy1)``, in float32. Output rows go in blocks that stay in the CPU cache.
    ``origin``/``size``: resize only that region of ``image`` (a border crop without copying the image)."""
    size = size or image.shape[:2]
    y0, y1, wy0, wy1 = _linear_taps(size[0], out_hw[0])
    x0, x1, wx0, wx1 = _linear_taps(size[1], out_hw[1])
    y0, y1, x0, x1 = y0 + origin[0], y1 + origin[0], x0 + origin[1], x1 + origin[1]
    extra = (None,) * (image.ndim - 2)
    wx0, wx1 = wx0[(slice(None), *extra)], wx1[(slice(None), *extra)]
    wy0, wy1 = wy0[(slice(None), None, *extra)], wy1[(slice(None), None, *extra)]
    out = np.empty((out_hw[0], out_hw[1], *image.shape[2:]), np.float32)

    def exact_sum(*weights) -> bool:
        """Integers below 2^16 times weights of at least 2^-13 (and such a product rounded to float32) sum
        exactly in float64: every bit lies between 2^16 and 2^-36, within 53 places, so no tie check is needed."""
        return image.dtype in (np.uint8, np.uint16) and min(w[w > 0].min(initial=1) for w in weights) >= 2.0 ** -13

    # Every output column on an input column (an integer scale, e.g. 6000 -> 2000): fma(x0, 1, x1 * 0) == x0.
    columns_only = not wx1.any() and bool((wx0 == 1).all())
    exact_x = exact_sum(wx0, wx1)
    exact_y = columns_only and exact_sum(wy0, wy1)  # the rows are then still the input's integers

    # np.take copies a non-contiguous input (a border-cropped view) whole on every call: copy it once instead.
    image = np.ascontiguousarray(image)

    def rows(index):
        r = np.take(image, index, axis=0)
        if columns_only:
            return np.take(r, x0, axis=1).astype(np.float32, copy=False)
        right = np.multiply(np.take(r, x1, axis=1), wx1, dtype=np.float32)
        return fma32(np.take(r, x0, axis=1), wx0, right, exact_sum=exact_x)

    for start in range(0, out_hw[0], block):
        part = slice(start, start + block)
        bottom = rows(y1[part])
        bottom *= wy1[part]
        out[part] = fma32(rows(y0[part]), wy0[part], bottom, exact_sum=exact_y)
    return out
