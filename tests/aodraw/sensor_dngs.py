"""Helpers of the RAW tests: DNG files of sensors that are not 2x2 Bayer, written with tifffile as cameras and
Adobe's DNG Converter lay them out, each with the words ``read_raw`` must find for it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import tifffile

from aodraw.synthetic_raw import dng_tags

# Fujifilm's X-Trans layout (0 = R, 1 = G, 2 = B; dcraw's xtrans_abs), as DNG Converter keeps it for RAFs
XTRANS = [[1, 1, 0, 1, 1, 2],
          [1, 1, 2, 1, 1, 0],
          [2, 0, 1, 0, 2, 1],
          [1, 1, 2, 1, 1, 0],
          [1, 1, 0, 1, 1, 2],
          [0, 2, 1, 2, 0, 1]]
CYAN, YELLOW, GREEN, MAGENTA = 3, 5, 1, 4  # DNG CFAPlaneColor codes
PHOTOMETRIC = 262  # the TIFF tag
LINEAR_RAW, CFA = 34892, 32803


def write_cfa_dng(path: Path, mosaic: np.ndarray, repeat: list[list[int]], plane_colours=None) -> Path:
    """A CFA DNG whose pattern repeats ``repeat`` (indices into ``plane_colours``, default R, G, B)."""
    layout = [(33421, "H", 2, (len(repeat), len(repeat[0])), True),  # CFARepeatPatternDim
              (33422, "B", len(repeat) * len(repeat[0]), tuple(np.ravel(repeat).tolist()), True)]
    if plane_colours:
        layout.append((50710, "B", len(plane_colours), tuple(plane_colours), True))  # CFAPlaneColor
    tifffile.imwrite(path, mosaic, photometric=CFA, extratags=layout + dng_tags(), metadata=None)
    return path


def write_linear_dng(path: Path, mosaic: np.ndarray) -> Path:
    """A demosaiced (LinearRaw) DNG: three values per pixel."""
    tifffile.imwrite(path, np.stack([mosaic] * 3, -1), photometric=LINEAR_RAW, extratags=dng_tags(), metadata=None)
    return path


def write_monochrome_dng(path: Path, mosaic: np.ndarray) -> Path:
    """A monochrome DNG (LinearRaw with one value per pixel, as Leica's Monochrom writes; tifffile refuses to
    write that photometric tag for one sample, so it is patched in)."""
    tifffile.imwrite(path, mosaic, photometric="minisblack", extratags=dng_tags(), metadata=None)
    return patch_tag(path, PHOTOMETRIC, LINEAR_RAW)


def patch_tag(path: Path, tag: int, value: int) -> Path:
    """Overwrite the (one SHORT) value of ``tag`` in the first IFD of a little-endian classic TIFF in place."""
    with tifffile.TiffFile(path) as tif:
        value_at = tif.pages[0].tags[tag].offset + 8  # an entry is tag, type, count, then the value
    with open(path, "r+b") as f:
        f.seek(value_at)
        f.write(value.to_bytes(2, "little"))
    return path


# what read_raw must say (after "NAME: ") -> a writer of such a file
NOT_BAYER = {
    "X-Trans 6x6 CFA": lambda path, m: write_cfa_dng(path, m, XTRANS),
    "4-colour CFA (GMCY)": lambda path, m: write_cfa_dng(path, m, [[0, 1], [2, 3]], (CYAN, YELLOW, GREEN, MAGENTA)),
    "4x4 CFA": lambda path, m: write_cfa_dng(path, m, [[0, 1, 0, 1], [1, 2, 2, 1]]),  # a 2x4 RGB repeat
    "2x2 CFA RRGB": lambda path, m: write_cfa_dng(path, m, [[0, 0], [1, 2]]),
    "demosaiced full-colour image (e.g. a LinearRaw DNG)": write_linear_dng,
    "monochrome sensor (no colour filter array)": write_monochrome_dng,
}
