"""The LUSS mask codec and mask folders.

A mask is an 8-bit RGB PNG whose pixel holds a class id ``R + 256 * G`` (blue is unused):
0 is background ("other"), 1000 marks ignored ground-truth pixels, 1..N are classes.
Decoding yields ``int32`` ids (never ``uint8 * 256``, which overflows on NumPy 2). A damaged file is
refused with one message naming it and the cause; decoding is Pillow's, which reports problems as
exceptions (libpng under OpenCV prints them to stderr).
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import PngImagePlugin

from plumbing.archives import nested_folder, nesting_hint
from plumbing.errors import BadInputError, ToolkitRuntimeError
from plumbing.files import atomic_write_bytes
from plumbing.system_files import walk_files

BACKGROUND = 0
IGNORE = 1000
MAX_ID = 255 + 256 * 255
DEFAULT_MAX_PIXELS = 50_000_000
HEADER_BYTES = 33  # the signature and the IHDR chunk

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPES = {0: "grayscale (L)", 2: "RGB", 3: "palette (P)", 4: "grayscale with alpha (LA)", 6: "RGBA"}
_OTHER_FORMATS = {b"\xff\xd8\xff": "JPEG", b"GIF8": "GIF", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
                  b"PK\x03\x04": "zip", b"\x00\x05\x16\x07": "macOS AppleDouble metadata"}


@dataclass(frozen=True)
class PngHeader:
    """The image header (IHDR) of a PNG file."""

    width: int
    height: int
    bit_depth: int
    color_type: int

    @property
    def mode(self) -> str:
        """Bit depth and colour type in words, e.g. ``8-bit RGB`` or ``16-bit grayscale (L)``."""
        kind = _COLOR_TYPES.get(self.color_type, f"color type {self.color_type}")
        return f"{self.bit_depth}-bit {kind}"

    @property
    def is_8bit_rgb(self) -> bool:
        """True for 8-bit RGB or RGBA (colour types 2 and 6), the only formats ``check_header`` accepts for masks."""
        return self.bit_depth == 8 and self.color_type in (2, 6)


def _truncated(name: str, size: int) -> BadInputError:
    return BadInputError(f"{name}: truncated PNG (ends early, after {size:,} bytes)")


def read_png_header(data: bytes, name: str) -> PngHeader:
    """Parse the IHDR chunk (the first ``HEADER_BYTES``) without decoding any pixel data.

    Raises:
        BadInputError: an empty file, not a PNG (naming the format when it is a common one), a PNG that
            ends within its header, or a first chunk that is not IHDR.
    """
    if not data:
        raise BadInputError(f"{name}: empty file (0 bytes), not a PNG")
    if data[:8] != _PNG_SIGNATURE[:len(data)]:
        found = next((f" ({kind} data)" for magic, kind in _OTHER_FORMATS.items() if data.startswith(magic)), "")
        raise BadInputError(f"{name}: not a PNG file{found}")
    if len(data) < HEADER_BYTES:
        raise _truncated(name, len(data))
    if data[8:16] != b"\x00\x00\x00\x0dIHDR":
        raise BadInputError(f"{name}: corrupt PNG (its first chunk is not the 13-byte IHDR header)")
    width, height, bit_depth, color_type = struct.unpack(">IIBB", data[16:26])
    return PngHeader(width, height, bit_depth, color_type)


def check_header(data: bytes, name: str, *, shape: tuple | None = None,
                 max_pixels: int | None = DEFAULT_MAX_PIXELS) -> PngHeader:
    """Check a mask's header (the first ``HEADER_BYTES`` suffice) before any pixel is decompressed.

    Raises:
        BadInputError: see ``read_png_header``; not 8-bit RGB(A), more than ``max_pixels`` pixels
            (decompression bombs), or a size other than ``shape`` (H, W).
    """
    header = read_png_header(data, name)
    if not header.is_8bit_rgb:
        raise BadInputError(f"{name}: mode is {header.mode}; masks must be 8-bit RGB (id = R + 256 * G)")
    if max_pixels is not None and header.width * header.height > max_pixels:
        raise BadInputError(f"{name}: {header.width}x{header.height} pixels exceed the limit of {max_pixels:,}")
    if shape is not None and (header.height, header.width) != tuple(shape):
        raise BadInputError(f"{name}: size {header.width}x{header.height} differs from the ground truth's "
                            f"{shape[1]}x{shape[0]}")
    return header


def check_chunks(data: bytes, name: str) -> None:
    """Walk the chunks after the signature up to IEND, each complete and matching its CRC.

    Raises:
        BadInputError: the file ends before IEND (truncated), or a chunk has an invalid length or
            fails its CRC (corrupt).
    """
    view, pos = memoryview(data), len(_PNG_SIGNATURE)
    while True:
        if pos + 12 > len(data):
            raise _truncated(name, len(data))
        length, kind = struct.unpack_from(">I4s", data, pos)
        chunk = kind.decode("ascii", "backslashreplace")
        if length > 0x7FFFFFFF:
            raise BadInputError(f"{name}: corrupt PNG (chunk {chunk!r} at byte {pos:,} has an invalid length)")
        end = pos + 12 + length
        if end > len(data):
            raise _truncated(name, len(data))
        if zlib.crc32(view[pos + 4:end - 4]) != struct.unpack_from(">I", data, end - 4)[0]:
            raise BadInputError(f"{name}: corrupt PNG (chunk {chunk!r} at byte {pos:,} fails its CRC check)")
        if kind == b"IEND":
            return
        pos = end


# ImageNet-S subsets by class count, for the hint when a ground truth holds ids beyond N
SUBSET_CLASSES = (50, 300, 919)


class GroundTruthError(BadInputError):
    """A ground-truth mask whose ids do not fit the class count (exit code 2): the ground truth's fault, never a
    prediction's, so a leaderboard stops instead of refusing (and caching) every submission for it."""


def check_ground_truth(ids: np.ndarray, name: str, num_classes: int | None = None) -> None:
    """Refuse a ground truth holding an id outside 0..N and 1000 (0 background, 1..N classes, 1000 ignore).

    Args:
        ids: (H, W) integer class ids.
        name: the mask's file (or label), named in the error.
        num_classes: N; None checks only the upper bound 1000 (any class count).
    Raises:
        GroundTruthError: a negative id, an id above 1000, or an id in N+1..999, naming ``name`` and the first
            such id, with a hint when a ground truth of a larger ImageNet-S subset would hold it.
    """
    if ids.dtype.kind == "i" and ids.size and int(ids.min()) < 0:
        raise GroundTruthError(f"{name}: negative ground-truth id {int(ids.min())}")
    _check_top_ids(ids, name, IGNORE - 1 if num_classes is None else int(num_classes))


def _check_top_ids(ids: np.ndarray, name: str, n: int) -> None:
    top = int(ids.max(initial=0))
    if top <= n:
        return
    if top > IGNORE:
        raise GroundTruthError(f"{name}: ground-truth id {top} is above {IGNORE} (the ignore label)")
    # masks with ignore pixels: every id above N must be the ignore id (two counting passes, no index arrays)
    if np.count_nonzero(ids > n) != np.count_nonzero(ids == IGNORE):
        bad = int(ids[(ids > n) & (ids != IGNORE)].min())
        larger = [str(k) for k in SUBSET_CLASSES if k > n and k >= bad]
        hint = (f"; a {'- or '.join(larger)}-class ground truth scored with --mode {n}?" if larger else "")
        raise GroundTruthError(f"{name}: ground-truth id {bad} is not a class of {n} (ids must be 0..{n}, or "
                            f"{IGNORE} to ignore){hint}")


def decode_mask(data: bytes, name: str, *, ground_truth: bool = False, shape: tuple | None = None,
                max_pixels: int | None = DEFAULT_MAX_PIXELS, num_classes: int | None = None) -> np.ndarray:
    """Decode PNG bytes into an ``int32`` (H, W) array of class ids.

    Args:
        data: the PNG file's bytes.
        name: the file's name, used in error messages.
        ground_truth: check the ids with ``check_ground_truth`` (0..N or 1000).
        shape, max_pixels: see ``check_header``.
        num_classes: N for ``ground_truth``; None refuses only ids above 1000.
    Raises:
        BadInputError: a header refused by ``check_header``, a truncated or corrupt file (see
            ``check_chunks``), image data that does not decompress, an RGBA mask with transparent
            pixels, or a ground truth with ids outside 0..N and 1000 (see ``check_ground_truth``).
    """
    header = check_header(data, name, shape=shape, max_pixels=max_pixels)
    check_chunks(data, name)
    try:
        # the plug-in class directly: Image.open's own pixel limit would override max_pixels
        with PngImagePlugin.PngImageFile(io.BytesIO(data)) as image:
            image.load()
            rgb = np.asarray(image)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInputError(f"{name}: corrupt PNG (its image data does not decode: {exc})") from None
    if header.color_type == 6 and not (rgb[..., 3] == 255).all():
        raise BadInputError(f"{name}: mode is RGBA with transparent pixels; masks must be opaque RGB")
    # R and G side by side read as one little-endian 16-bit word are R + 256 G
    ids = np.ndarray(rgb.shape[:2], "<u2", buffer=rgb, strides=rgb.strides[:2]).astype(np.int32)
    if ground_truth:  # decoded ids are never negative: only the upper side is checked
        _check_top_ids(ids, name, IGNORE - 1 if num_classes is None else int(num_classes))
    return ids


def as_uint16(ids: np.ndarray) -> np.ndarray:
    """Ids as uint16; ids above 65535 (possible only in arrays given directly) become 65535."""
    return ids if ids.dtype == np.uint16 else np.minimum(ids, MAX_ID).astype(np.uint16)


def count_ids(ids: np.ndarray, bins: int) -> np.ndarray:
    """Exact int64 counts of the values 0..bins-1 in a uint16 array; other values are not counted.

    OpenCV's histogram is about 3x faster than ``np.bincount`` here; its float32 counts are exact below
    2**24 pixels, beyond which ``np.bincount`` is used.
    """
    if ids.size < 2**24:
        return cv2.calcHist([ids], [0], None, [bins], [0, bins]).ravel().astype(np.int64)
    return np.bincount(ids.ravel(), minlength=bins + 1)[:bins]


def encode_mask(ids: np.ndarray) -> bytes:
    """Encode an (H, W) integer array of ids in 0..65535 as RGB PNG bytes."""
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.dtype.kind not in "iu":
        raise BadInputError(f"expected a 2-D integer array, got {ids.ndim}-D {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() > MAX_ID):
        raise BadInputError(f"ids must lie in 0..{MAX_ID}, got {ids.min()}..{ids.max()}")
    ids = ids.astype(np.int64)
    bgr = np.stack([np.zeros_like(ids), ids >> 8, ids & 255], axis=-1).astype(np.uint8)
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ToolkitRuntimeError("PNG encoding failed")
    return buf.tobytes()


def write_mask(path: str | os.PathLike, ids: np.ndarray) -> Path:
    """Write ``ids`` as an RGB PNG mask (atomically)."""
    return atomic_write_bytes(path, encode_mask(ids))


class MaskFolder:
    """PNG masks under a root folder, addressed by their relative POSIX paths.

    The folder is listed once, on the first ``names()``; operating-system metadata (``.DS_Store``, ``._*``,
    ``__MACOSX/``, ... see ``plumbing.system_files``) is skipped unread, with one warning that counts it.
    """

    def __init__(self, root: str | os.PathLike, *, max_pixels: int | None = DEFAULT_MAX_PIXELS):
        self.root = Path(root)
        self.max_pixels = max_pixels
        self._names: list[str] | None = None
        if not self.root.is_dir():
            raise BadInputError(f"{self.root}: not a folder")

    def __repr__(self) -> str:
        return f"MaskFolder({str(self.root)!r})"

    def __str__(self) -> str:
        return str(self.root)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_names": None}  # workers only read: no listing sent with every task

    def names(self) -> list[str]:
        """Every ``*.png`` below the root that is not operating-system metadata, sorted."""
        if self._names is None:
            self._names = walk_files(self.root, lambda name: name.lower().endswith(".png"))
        return list(self._names)

    def read(self, name: str, *, ground_truth: bool = False, shape: tuple | None = None,
             num_classes: int | None = None) -> np.ndarray:
        """Mask ``root/name`` decoded as int32 (H, W) ids (see ``decode_mask``).

        Raises:
            BadInputError: no such file, or any refusal of ``decode_mask`` (header, size, corrupt data, ids)."""
        path = self.root / name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BadInputError(f"{path}: no such file") from None
        return decode_mask(data, str(path), ground_truth=ground_truth, shape=shape, max_pixels=self.max_pixels,
                           num_classes=num_classes)


def pair_names(gt_names: list[str], pred_names: list[str], names: list[str] | None, pred_source: str) -> list[str]:
    """The evaluated masks: ``names`` (or every ground truth), each needing a prediction.

    Raises:
        BadInputError: a listed name has no ground truth, or predictions are missing (how many, the first few).
    """
    gt_set = set(gt_names)
    if names is None:
        names = gt_names
    else:
        absent = [n for n in names if n not in gt_set]
        if absent:
            raise BadInputError(f"names list: {len(absent)} of {len(names)} listed masks have no ground truth, "
                                f"first: {', '.join(absent[:5])}")
    if not names:
        raise BadInputError("ground truth: no PNG masks to evaluate")
    pred_set = set(pred_names)
    missing = [n for n in names if n not in pred_set]
    if missing:
        hint = _nesting_hint(pred_names, missing, pred_source.lower().endswith(".zip"))
        raise BadInputError(f"{pred_source}: {len(missing)} of {len(names)} predictions missing, "
                            f"first: {', '.join(missing[:5])}{hint}")
    return list(names)


def _nesting_hint(pred_names: list[str], missing: list[str], archive: bool) -> str:
    """When every prediction sits inside one extra folder that holds the missing names, say so
    (``plumbing.archives.nesting_hint``, with the zip command for an ``archive``)."""
    folder = nested_folder(pred_names)
    if folder is not None and {n.split("/", 1)[-1] for n in pred_names} & set(missing):
        return f" ({nesting_hint(folder, archive)})"
    return ""
