"""Dataset presets of the USS protocols and reading ground truth in each dataset's own format.

A preset names its classes, its lookup from raw ground-truth values to class ids (``evaluators.uss.labels``), how
its ground-truth files are recognised and read, its thing/stuff split and its curated list (a manifest path).
Ground truth: COCO-Stuff PNGs of fine ids (8-bit, 255 unlabeled), Cityscapes ``*_gtFine_labelIds.png``, Potsdam label
arrays (``.mat`` with a ``gt`` array as STEGO reads them, or ``.npy`` / 8-bit PNG of the same values).
Predictions: PNGs of cluster ids (8- or 16-bit grayscale; RGB as the LUSS codec R + 256 * G) or ``.npy`` integer
arrays, at the ground truth's relative path (the suffix may be ``.png`` or ``.npy``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from evaluators.luss.masks import check_chunks, read_png_header
from evaluators.uss import labels
from plumbing.errors import BadInputError, UnknownNameError
from plumbing.files import load_numpy
from plumbing.system_files import walk_files

CURATED_COCO = "curated/val2017/Coco164kFull_Stuff_Coarse_7.txt"  # the manifest path of PiCIE's curated val list
PRED_SUFFIXES = (".png", ".npy")


@dataclass(frozen=True)
class Preset:
    """A dataset preset: ``name``, class ``names`` (ids 0..C-1), ``table`` (raw value -> class, see ``labels``),
    ground-truth file ``pattern`` (a name suffix), ``things`` (leading thing classes, or None) and ``curated`` (the
    manifest path of its curated image list, or None)."""

    name: str
    names: tuple[str, ...]
    table: np.ndarray
    pattern: tuple[str, ...]
    things: int | None = None
    curated: str | None = None

    @property
    def num_classes(self) -> int:
        """C, the number of classes."""
        return len(self.names)


def _presets() -> dict[str, Preset]:
    coco = (".png",)
    return {
        "cocostuff27": Preset("cocostuff27", tuple(n for n, _ in labels.COCO27), labels.coco27_table(), coco,
                              labels.COCO27_THINGS, CURATED_COCO),
        "cocostuff171": Preset("cocostuff171", labels.coco171_names(), labels.coco171_table(), coco, None,
                               CURATED_COCO),
        "cityscapes27": Preset("cityscapes27", labels.CITYSCAPES27, labels.cityscapes27_table(),
                               ("_gtFine_labelIds.png",)),
        "potsdam3": Preset("potsdam3", tuple(n for n, _ in labels.POTSDAM3), labels.potsdam3_table(),
                           (".mat", ".npy", ".png")),
    }


PRESETS = _presets()
DATASETS = tuple(PRESETS)


def preset(name: str) -> Preset:
    """The preset called ``name`` (``cocostuff27``, ``cocostuff171``, ``cityscapes27``, ``potsdam3``).

    Raises:
        UnknownNameError: no such preset."""
    try:
        return PRESETS[name]
    except KeyError:
        raise UnknownNameError(f"dataset {name!r}: expected one of {', '.join(DATASETS)}") from None


def read_array(path: Path) -> np.ndarray:
    """A 2-D integer array from ``.png`` (8/16-bit grayscale; RGB(A) decoded as R + 256 * G), ``.npy`` or ``.mat``
    (its ``gt`` array, else its only array).

    Raises:
        BadInputError: a missing or unreadable file (a damaged PNG is named with the cause, as LUSS masks are), or an
            array that is not 2-D integers."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise BadInputError(f"{path}: no such file")
    if suffix == ".png":
        data = path.read_bytes()
        read_png_header(data, str(path))  # empty, not a PNG (naming the format), truncated header
        check_chunks(data, str(path))  # truncated or corrupt chunks, before any decoding
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if array is None:
            raise BadInputError(f"{path}: corrupt PNG (its image data does not decode)")
        if array.ndim == 3:  # OpenCV reads B, G, R(, A)
            array = array[..., 2].astype(np.int32) + 256 * array[..., 1].astype(np.int32)
    elif suffix == ".npy":
        try:
            array = load_numpy(path)
        except BadInputError:
            raise
        except (ValueError, OSError) as exc:
            raise BadInputError(f"{path}: not a readable .npy array ({exc})") from None
    elif suffix == ".mat":
        from scipy.io import loadmat
        try:
            arrays = {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
        except (ValueError, OSError, TypeError) as exc:
            raise BadInputError(f"{path}: not a readable .mat file ({exc})") from None
        if "gt" not in arrays and len(arrays) != 1:
            raise BadInputError(f"{path}: expected a 'gt' array, found {', '.join(sorted(arrays)) or 'none'}")
        array = arrays.get("gt", next(iter(arrays.values()), None))
    else:
        raise BadInputError(f"{path}: unknown format (expected .png, .npy or .mat)")
    array = np.asarray(array)
    if array.ndim != 2 or array.dtype.kind not in "iu":
        raise BadInputError(f"{path}: expected a 2-D integer array, got {array.ndim}-D {array.dtype}")
    return array


def read_ground_truth(path: Path, spec: Preset) -> np.ndarray:
    """The ground truth at ``path`` as uint8 class ids (255: void) through the preset's table.

    Raises:
        BadInputError: unreadable, or values the dataset never uses (STEGO would silently make them class 0)."""
    raw = read_array(path)
    if raw.dtype != np.uint8:
        if raw.min() < 0 or raw.max() > 255:
            raise BadInputError(f"{path}: values {raw.min()}..{raw.max()} outside 0..255 for {spec.name}")
        raw = raw.astype(np.uint8)
    classes = cv2.LUT(np.ascontiguousarray(raw), spec.table)
    if (spec.table == labels.INVALID).any() and (classes == labels.INVALID).any():
        bad = np.unique(raw[classes == labels.INVALID])
        raise BadInputError(f"{path}: value(s) {', '.join(map(str, bad[:5]))} do not occur in {spec.name} ground "
                            "truth")
    return classes


class GroundTruthTree:
    """Ground-truth files of one preset under ``root``, addressed by relative POSIX paths."""

    def __init__(self, root: str | os.PathLike, spec: Preset):
        self.root, self.spec = Path(root), spec
        if not self.root.is_dir():
            raise BadInputError(f"--gt-dir {self.root}: not a folder")

    def __str__(self) -> str:
        return str(self.root)

    def names(self) -> list[str]:
        """Every ground-truth file (the preset's name pattern) below the root, sorted; system files skipped."""
        return walk_files(self.root, lambda name: name.endswith(self.spec.pattern))

    def read(self, name: str) -> np.ndarray:
        """Ground truth ``name`` as uint8 class ids (255 void); see ``read_ground_truth``."""
        return read_ground_truth(self.root / name, self.spec)


class PredictionTree:
    """Predicted cluster maps under ``root`` at the ground truth's relative paths (suffix ``.png`` or ``.npy``)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInputError(f"--pred-dir {self.root}: not a folder")

    def __str__(self) -> str:
        return str(self.root)

    def path(self, name: str) -> Path | None:
        """Where the prediction for ground truth ``name`` is (same path, else same stem with .png/.npy), or None."""
        same = self.root / name
        if same.is_file() and same.suffix.lower() in PRED_SUFFIXES:
            return same
        for suffix in PRED_SUFFIXES:
            other = same.with_suffix(suffix)
            if other.is_file():
                return other
        return None

    def read(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """The prediction for ``name`` as an integer (H, W) array of cluster ids.

        Raises:
            BadInputError: missing, unreadable, or of another size than the ground truth."""
        path = self.path(name)
        if path is None:
            raise BadInputError(f"{self.root}: no prediction for {name} (.png or .npy)")
        pred = read_array(path)
        if pred.shape != tuple(shape):
            raise BadInputError(f"{path}: size {pred.shape[1]}x{pred.shape[0]} differs from the ground truth's "
                                f"{shape[1]}x{shape[0]}")
        return pred
