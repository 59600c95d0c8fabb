"""Helpers of the RAW tests: DNG files that tifffile cannot write directly."""
from __future__ import annotations

from pathlib import Path

import tifffile


def patch_tag(path: Path, tag: int, value: int) -> Path:
    """Overwrite the (one SHORT) value of ``tag`` in the first IFD of a little-endian classic TIFF in place."""
    with tifffile.TiffFile(path) as tif:
        value_at = tif.pages[0].tags[tag].offset + 8  # an entry is tag, type, count, then the value
    with open(path, "r+b") as f:
        f.seek(value_at)
        f.write(value.to_bytes(2, "little"))
    return path
