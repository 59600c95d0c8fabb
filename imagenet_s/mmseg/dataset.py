"""``ImageNetSDataset`` and its loading transforms for MMSegmentation 1.x.

The layout is the one ``imagenet-s prepare`` builds (``ImageNetS{N}/``): ``train-semi/`` with
``train-semi-segmentation/``, ``validation/`` with ``validation-segmentation/``, and ``test/`` (no masks). Images are
``wnid/NAME.JPEG``, masks ``wnid/NAME.png`` at the same relative path, decoded by the evaluators' codec
(``evaluators.luss.masks.decode_mask``: id = R + 256 * G, 0 background, 1000 ignore). Class 0 is ``others``.
"""
from __future__ import annotations

import colorsys
import os
import os.path as osp
from pathlib import Path

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, LoadImageFromFile
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS, TRANSFORMS

from evaluators.luss.masks import IGNORE, decode_mask
from imagenet_s import lists
from plumbing.errors import BadInputError, UnknownNameError

SUBSETS = (50, 300, 919)
SPLITS = {"train": ("train", None),  # masks from elsewhere (pseudo labels): data_prefix.seg_map_path
          "train-semi": ("train-semi", "train-semi-segmentation"),
          "validation": ("validation", "validation-segmentation"),
          "test": ("test", None)}
IMAGE_SUFFIXES = (".JPEG", ".jpeg", ".jpg", ".JPG", ".png")
MEMORY_GUARD_PIXELS = 1000 * 1000  # upstream: images over 1000^2 pixels go to a longer side of 1000
MEMORY_GUARD_SIDE = 1000


def split_folders(split: str) -> tuple[str, str | None]:
    """(image folder, mask folder or None) of a split of the built layout (UnknownNameError for other splits)."""
    if split not in SPLITS:
        raise UnknownNameError(f"split {split!r}: expected one of {', '.join(SPLITS)}")
    return SPLITS[split]


def subset_root(data_root: str | os.PathLike, subset: int) -> Path:
    """``DATA_ROOT/ImageNetS{N}`` when it exists (the folder ``imagenet-s prepare --save`` fills), else DATA_ROOT."""
    inner = Path(data_root) / f"ImageNetS{subset}"
    return inner if inner.is_dir() else Path(data_root)


def class_names(subset: int, categories: str | os.PathLike | None = None,
                image_dir: str | os.PathLike | None = None) -> tuple[str, ...]:
    """``('others', wnid_1, ..., wnid_N)``: WordNet ids from the categories file when given, else the sorted class
    folders of ``image_dir`` when there are exactly N of them, else ``'1'..'N'`` (a reduced tree).

    ``subset`` is 50, 300 or 919, or, without a categories file, any other positive N: a toy tree of N classes (PASS's
    K clusters on the tests' tree). Raises UnknownNameError otherwise."""
    if subset not in SUBSETS and (categories is not None or not isinstance(subset, int) or subset < 1):
        raise UnknownNameError(f"subset {subset!r}: expected one of 50, 300, 919 (or N > 0 for a toy tree)")
    if categories is not None:
        return ("others", *lists.read_categories(categories, subset))
    if image_dir is not None and Path(image_dir).is_dir():
        wnids = sorted(p.name for p in Path(image_dir).iterdir() if p.is_dir() and lists.WNID.fullmatch(p.name))
        if len(wnids) == subset:
            return ("others", *wnids)
    return ("others", *(str(i) for i in range(1, subset + 1)))


def palette(n: int) -> list[list[int]]:
    """``n`` colours for visualisation: black for ``others``, then evenly spaced hues."""
    return [[0, 0, 0]] + [[int(255 * c) for c in colorsys.hsv_to_rgb(i / max(n - 1, 1), 0.8, 0.95)]
                          for i in range(n - 1)]


def list_images(image_dir: str | os.PathLike, names: list[str] | None = None) -> list[str]:
    """Relative POSIX paths ``wnid/NAME.JPEG`` of the images under ``image_dir`` (sorted), or of ``names`` (each
    checked to exist). Raises MissingInputError-like BadInputError naming the folder or the first missing images."""
    root = Path(image_dir)
    if not root.is_dir():
        raise BadInputError(f"{root}: image folder not found (build it with `imagenet-s prepare`)")
    if names is not None:
        missing = [n for n in names if not (root / n).is_file()]
        if missing:
            raise BadInputError(f"{root}: {len(missing)} listed images missing, first: {', '.join(missing[:5])}")
        return sorted(names)
    found = []
    for folder, _dirs, files in os.walk(root, followlinks=True):
        rel = Path(folder).relative_to(root)
        found += [(rel / f).as_posix() for f in files if f.endswith(IMAGE_SUFFIXES) and not f.startswith(".")]
    if not found:
        raise BadInputError(f"{root}: no images ({'/'.join(IMAGE_SUFFIXES)})")
    return sorted(found)


def mask_name(image_name: str) -> str:
    """The mask (and prediction) name of an image: ``wnid/NAME.JPEG`` -> ``wnid/NAME.png``."""
    return f"{image_name.rsplit('.', 1)[0]}.png"


@DATASETS.register_module()
class ImageNetSDataset(BaseSegDataset):
    """An ImageNet-S split as an MMSegmentation dataset (N + 1 classes, ``others`` first, ignore index 1000).

    Args:
        subset: 50, 300 or 919 (the classes N); another N > 0 for a toy tree without a categories file.
        split: ``train-semi``, ``validation``, ``test`` (no masks; for inference) or ``train`` (masks only where
            ``data_prefix.seg_map_path`` points, e.g. PASS pseudo labels at the images' relative paths).
        data_root: the built tree (``ROOT/ImageNetS{N}`` or that folder itself).
        ann_file: optional names list (``wnid/NAME.JPEG [wnid/NAME.png]`` per line, e.g.
            ``ImageNetS_im50_validation.txt``) instead of every image of the split.
        categories: optional ``ImageNetS_categories_im{N}.txt`` naming the classes (see ``class_names``).
        Other keyword arguments: MMSegmentation's ``BaseSegDataset`` (``pipeline``, ``test_mode``, ...).
    Raises:
        BadInputError: an unknown subset or split, a missing folder, an image without its mask (labelled splits).
    """

    METAINFO = {}

    def __init__(self, subset: int = 919, split: str = "validation", data_root: str | None = None,
                 ann_file: str = "", categories: str | None = None, **kwargs):
        self.subset, self.split = int(subset), split
        image_dir, mask_dir = split_folders(split)
        self.has_masks = mask_dir is not None or bool((kwargs.get("data_prefix") or {}).get("seg_map_path"))
        root = subset_root(data_root or "", self.subset)
        classes = class_names(self.subset, categories, root / image_dir)
        metainfo = {"classes": classes, "palette": palette(len(classes)), **(kwargs.pop("metainfo", None) or {})}
        kwargs.setdefault("data_prefix", {"img_path": image_dir, "seg_map_path": mask_dir or ""})
        kwargs.setdefault("ignore_index", IGNORE)
        super().__init__(ann_file=ann_file, img_suffix=".JPEG", seg_map_suffix=".png", metainfo=metainfo,
                         data_root=str(root), reduce_zero_label=False, **kwargs)

    def load_data_list(self) -> list[dict]:
        """One entry per image: ``img_path``, ``seg_map_path`` (None for ``test``), ``name`` (the mask name
        ``wnid/NAME.png``), ``label_map`` None and ``reduce_zero_label`` False; sorted by name."""
        image_dir = self.data_prefix.get("img_path", "")
        mask_dir = self.data_prefix.get("seg_map_path") if self.has_masks else None
        names = None
        if self.ann_file:
            names = [line.split()[0] for line in lists.read_lines(self.ann_file)]
        images = list_images(image_dir, names)
        data = []
        missing = []
        for name in images:
            seg = osp.join(mask_dir, mask_name(name)) if mask_dir else None
            if seg is not None and not osp.isfile(seg):
                missing.append(seg)
            data.append({"img_path": osp.join(image_dir, name), "seg_map_path": seg, "name": mask_name(name),
                         "label_map": None, "reduce_zero_label": False, "seg_fields": []})
        if missing:
            raise BadInputError(f"{mask_dir}: {len(missing)} of {len(images)} masks missing, first: "
                                f"{', '.join(missing[:3])}")
        return data


def shrink_to_longer_side(img: np.ndarray, side: int = MEMORY_GUARD_SIDE) -> np.ndarray:
    """``img`` resized (bilinear) so that its longer side is ``side`` pixels (aspect ratio kept, sizes rounded)."""
    h, w = img.shape[:2]
    scale = side / max(h, w)
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_LINEAR)


@TRANSFORMS.register_module()
class LoadImageNetSImage(LoadImageFromFile):
    """MMCV's ``LoadImageFromFile`` with the upstream memory guard as an option: with ``max_pixels`` set, an image
    of more than ``max_pixels`` pixels is shrunk to a longer side of ``longer_side`` (MMSegmentation 0.x's
    ImageNet-S loader: 1000^2 and 1000); ``ori_shape`` stays the file's size, so predictions are restored to the
    original size on output."""

    def __init__(self, max_pixels: int | None = None, longer_side: int = MEMORY_GUARD_SIDE, **kwargs):
        super().__init__(**kwargs)
        self.max_pixels, self.longer_side = max_pixels, longer_side

    def transform(self, results: dict) -> dict:
        """Load the image (BGR uint8, H x W x 3); shrink it under the memory guard. ``ori_shape``: the file's size."""
        results = super().transform(results)
        h, w = results["img"].shape[:2]
        results["ori_shape"] = (h, w)
        if self.max_pixels is not None and h * w > self.max_pixels:
            results["img"] = shrink_to_longer_side(results["img"], self.longer_side)
            results["img_shape"] = results["img"].shape[:2]
        return results


@TRANSFORMS.register_module()
class LoadImageNetSAnnotations(BaseTransform):
    """Read ``seg_map_path`` with the evaluators' mask codec into ``gt_seg_map``: uint16 (H, W) ids 0..N and 1000
    (ignore). Raises BadInputError for a damaged mask or ids above 1000 (the message names the file)."""

    def transform(self, results: dict) -> dict:
        """Add ``gt_seg_map`` (uint16 ids) and register it in ``seg_fields``."""
        path = results["seg_map_path"]
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise BadInputError(f"{path}: mask not found") from None
        results["gt_seg_map"] = decode_mask(data, str(path), ground_truth=True).astype(np.uint16)
        results.setdefault("seg_fields", []).append("gt_seg_map")
        return results


@TRANSFORMS.register_module()
class ResizeShorterSide(BaseTransform):
    """Resize the image (bilinear) so that its shorter side is ``size`` pixels, the longer one
    ``int(size * long / short)`` (torchvision's ``Resize(size)`` rule, as the group's evaluation); masks are not
    touched (evaluation compares at the original size)."""

    def __init__(self, size: int = 256):
        self.size = int(size)

    def transform(self, results: dict) -> dict:
        """Resize ``img`` and set ``img_shape`` and ``scale_factor`` (w, h)."""
        img = results["img"]
        h, w = img.shape[:2]
        if h <= w:
            nh, nw = self.size, int(self.size * w / h)
        else:
            nh, nw = int(self.size * h / w), self.size
        results["img"] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
        results["img_shape"] = (nh, nw)
        results["scale_factor"] = (nw / w, nh / h)
        results["keep_ratio"] = True
        return results


@TRANSFORMS.register_module()
class RandomResizedCropWithMask(BaseTransform):
    """torchvision's ``RandomResizedCrop`` applied to the image (bilinear) and every ``seg_fields`` map (nearest):
    a crop of ``scale`` of the area and aspect ratio in ``ratio`` (log-uniform), 10 tries, else the centre crop of
    the clamped ratio; resized to ``size`` x ``size``."""

    def __init__(self, size: int = 224, scale: tuple = (0.14, 1.0), ratio: tuple = (3 / 4, 4 / 3)):
        self.size, self.scale, self.ratio = int(size), tuple(scale), tuple(ratio)

    def crop_box(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a random crop of an ``h`` x ``w`` image (torchvision's sampling)."""
        area = h * w
        log_ratio = np.log(self.ratio)
        for _ in range(10):
            target = area * np.random.uniform(*self.scale)
            aspect = np.exp(np.random.uniform(*log_ratio))
            cw, ch = int(round(np.sqrt(target * aspect))), int(round(np.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1), ch, cw
        in_ratio = w / h
        if in_ratio < min(self.ratio):
            cw, ch = w, int(round(w / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            ch, cw = h, int(round(h * max(self.ratio)))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def transform(self, results: dict) -> dict:
        """Crop and resize ``img`` and the maps of ``seg_fields``; set ``img_shape``."""
        h, w = results["img"].shape[:2]
        top, left, ch, cw = self.crop_box(h, w)
        size = (self.size, self.size)
        results["img"] = cv2.resize(results["img"][top:top + ch, left:left + cw], size,
                                    interpolation=cv2.INTER_LINEAR)
        for key in results.get("seg_fields", []):
            results[key] = cv2.resize(results[key][top:top + ch, left:left + cw], size,
                                      interpolation=cv2.INTER_NEAREST)
        results["img_shape"] = size
        return results
