"""What the toolkit knows about one public RAW detection dataset besides AODRaw: a ``DatasetSpec`` per dataset
(defined in its own module), and the rules its files share (levels from the file, the bit-depth check)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aodraw.raw import RawImage, read_raw
from plumbing.errors import BadInputError


@dataclass(frozen=True)
class DatasetSpec:
    """One RAW detection dataset.

    ``classes``: category names as its annotation files spell them (compared case-insensitively);
    ``first_category_id``: the id its files give the first class (0 or 1); ``raw_exts``: extensions of its RAW
    files (any case); ``frame``: (width, height) of the frame its published annotation files use;
    ``read(path, **overrides) -> RawImage``: its RAW reader (module-level, so jobs pickle);
    ``image_fields(image) -> dict``: extra fields for a converted image entry (None: none)."""

    name: str
    title: str
    sensor: str
    bit_depth: int
    classes: tuple[str, ...]
    first_category_id: int
    raw_exts: tuple[str, ...]
    frame: tuple[int, int]
    read: Callable[..., RawImage]
    image_fields: Callable[[dict], dict] | None = None


def read_camera_raw(path: str | os.PathLike, bit_depth: int, default_black: int = 0, **overrides) -> RawImage:
    """A camera RAW file (DNG, ARW, NEF, CR2) read with rawpy (``aodraw.raw.read_raw``), with the per-camera rules:
    black levels from the file (``default_black`` where the file gives none, i.e. all zero), the white level
    from the file, or ``2^bit_depth - 1`` where the file gives none or a larger one; values above ``bit_depth`` bits
    mean the file is not from this dataset's camera (BadInputError). ``overrides`` are refused: they exist for
    headerless formats only."""
    path = Path(path)
    if any(v is not None for v in overrides.values()):
        given = ", ".join(f"--{k}" for k, v in overrides.items() if v is not None)
        raise BadInputError(f"{given}: only for headerless .raw files (ROD); {path.name} has its own header")
    raw = read_raw(path)
    full = 2 ** bit_depth - 1
    top = int(raw.mosaic.max(initial=0))
    if top > full:
        raise BadInputError(f"{path.name}: values up to {top}, above {bit_depth} bits: not a file of this "
                            "dataset's camera")
    black = raw.black_level if any(raw.black_level) else (default_black,) * 4
    white = raw.white_level if 0 < raw.white_level <= full else full
    return RawImage(raw.mosaic, tuple(int(b) for b in black), int(white), raw.cfa_pattern)
