"""``images_slice_raw`` / ``images_slice_srgb`` and their annotation file, as the official DOTA-style splitter.

Windows of ``size`` px overlap by ``gap`` (step = size - gap); the last window of a row/column is moved back to the
image edge; starts are rounded down to even numbers; windows with in-image fraction <= ``img_rate_thr`` are
dropped. A box belongs to a window when its IoF (intersection over box area) is >= ``iof_thr``; boxes with
0 < IoF < ``iof_thr`` come along as crowd boxes; windows without a non-crowd box are not written.
"""
from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from math import ceil
from pathlib import Path

import numpy as np

from aodraw.io import JPG_EXT, read_jpg, read_pair, save_jpg
from aodraw.raw import displayed_mosaic, plane_sites
from evaluators.detection.validate import read_ground_truth
from plumbing.errors import BadInputError
from plumbing.files import needs_writing, save_npy, write_json
from plumbing.jobs import Summary, run_jobs

SRGB_PADDING = (104, 116, 124)  # BGR order, as OpenCV holds the JPG
RAW_PADDING = 0  # upstream crashes here (3 padding values for 4 planes); only windows past the image edge need it


def sliding_windows(width: int, height: int, size: int = 1280, gap: int = 300,
                    img_rate_thr: float = 0.6) -> np.ndarray:
    """Windows (x1, y1, x2, y2) in the official order (x outer, y inner)."""
    if not (0 <= gap < size and size % 2 == 0):
        raise BadInputError(f"--size/--gap: need an even size larger than the gap, got {size}/{gap}")
    step = size - gap

    def starts(length: int) -> list[int]:
        count = 1 if length <= size else ceil((length - size) / step + 1)
        out = [step * i for i in range(count)]
        if len(out) > 1 and out[-1] + size > length:
            out[-1] = length - size
        return [x // 2 * 2 for x in out]

    start = np.array(list(itertools.product(starts(width), starts(height))), np.int64).reshape(-1, 2)
    windows = np.concatenate([start, start + size], axis=1)
    inside = windows.copy()
    inside[:, 0::2] = np.clip(inside[:, 0::2], 0, width)
    inside[:, 1::2] = np.clip(inside[:, 1::2], 0, height)
    rates = (inside[:, 2] - inside[:, 0]) * (inside[:, 3] - inside[:, 1]) / size ** 2
    keep = rates > img_rate_thr
    if not keep.any():  # upstream asserts here; DOTA keeps the windows that cover the image best
        keep = np.abs(rates - rates.max()) < 0.01
    return windows[keep]


def iof(boxes: np.ndarray, windows: np.ndarray) -> np.ndarray:
    """Intersection over box area of (N, 4) x1y1x2y2 boxes with (M, 4) windows, as (N, M); the box area is
    rounded to float32 as upstream does."""
    lt = np.maximum(boxes[:, None, :2], windows[None, :, :2])
    rb = np.minimum(boxes[:, None, 2:], windows[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).astype(np.float32)
    return inter / np.maximum(area, np.float32(1e-6)).astype(np.float64)[:, None]


def slice_image(image: dict, anns: list[dict], size: int = 1280, gap: int = 300, iof_thr: float = 0.4,
                img_rate_thr: float = 0.6) -> list[tuple[np.ndarray, list[tuple[np.ndarray, int, int]]]]:
    """The windows of one image that get written, each with its boxes: (window, [(x1y1x2y2, category, crowd)])."""
    windows = sliding_windows(image["width"], image["height"], size, gap, img_rate_thr)
    if not anns:
        return []
    xywh = np.array([a["bbox"] for a in anns], np.float64)
    boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    overlaps = iof(boxes, windows)
    out = []
    for w, window in enumerate(windows):
        inside = np.flatnonzero(overlaps[:, w] >= iof_thr)
        partial = np.flatnonzero((overlaps[:, w] > 0) & (overlaps[:, w] < iof_thr))
        crowd = [int(anns[i].get("iscrowd", 0)) for i in inside] + [1] * len(partial)
        if not crowd or all(crowd):
            continue
        shifted = boxes[np.concatenate([inside, partial])] - window[[0, 1, 0, 1]].astype(np.float32)
        cats = [anns[i]["category_id"] for i in np.concatenate([inside, partial])]
        out.append((window, list(zip(shifted, cats, crowd))))
    return out


def slice_annotations(gt: dict, size: int = 1280, gap: int = 300, iof_thr: float = 0.4,
                      img_rate_thr: float = 0.6, ext: str = ".npy") -> tuple[dict, dict[str, list]]:
    """The official slice annotation file, and per original file stem the windows to write."""
    by_image: dict = {}
    for ann in gt.get("annotations", []):
        by_image.setdefault(ann["image_id"], []).append(ann)
    images, annotations, jobs = [], [], {}
    for info in gt["images"]:
        stem = info["file_name"].split(".")[0]
        for window, boxes in slice_image(info, by_image.get(info["id"], []), size, gap, iof_thr, img_rate_thr):
            x, y = int(window[0]), int(window[1])
            entry = {"id": len(images), "ori_id": info["id"], "x_start": x, "y_start": y,
                     "slice_id": f"{info['id']}__{size}__{x}___{y}", "file_name": f"{stem}__{size}__{x}___{y}{ext}",
                     "height": size, "width": size, "tag": info.get("tag", [])}
            images.append(entry)
            jobs.setdefault(stem, []).append((x, y, entry["file_name"]))
            annotations += [_slice_box(box, cat, crowd, entry["id"], len(annotations) + k, size)
                            for k, (box, cat, crowd) in enumerate(boxes)]
    return {"images": images, "type": "instance", "categories": gt["categories"],
            "annotations": annotations}, jobs


def _slice_box(box: np.ndarray, category: int, crowd: int, image_id: int, ann_id: int, size: int) -> dict:
    """One box in window coordinates exactly as upstream writes it: clipped to [0, size-1], cast to int, area
    from the unrounded sides, the polygon from the unclipped corners."""
    x1, y1, x2, y2 = (float(v) for v in box)
    polygon = [int(x1), int(y1), int(x1), int(y2), int(x2), int(y2), int(x2), int(y1)]
    x1, y1, x2, y2 = max(0.0, x1), max(0.0, y1), min(size - 1.0, x2), min(size - 1.0, y2)
    xywh = np.array([x1, y1, x2 - x1, y2 - y1])
    return {"segmentation": [polygon], "area": int(xywh[2] * xywh[3]), "ignore": 0, "iscrowd": int(crowd == 1),
            "image_id": image_id, "bbox": xywh.astype(int).tolist(), "category_id": int(category), "id": ann_id}


@dataclass(frozen=True)
class SliceJob:
    """One image's slices, picklable for worker processes: ``job(stem)`` cuts the image's windows
    (``windows[stem]``: (x, y, file name), pixels of the oriented image) of ``size`` px and writes those not yet
    written (RAW: float32 4 x size/2 x size/2 packed planes; sRGB: JPG); returns False when all exist already."""
    root: Path
    target: Path
    kind: str
    size: int
    windows: dict  # stem -> [(x, y, file name)]
    cfa_aware: bool = False

    def __call__(self, stem: str) -> bool:
        todo = [w for w in self.windows[stem] if needs_writing(self.target / w[2])]
        if not todo:
            return False
        if self.kind == "srgb":
            image = read_jpg(self.root / f"{stem}{JPG_EXT}")
            for x, y, file_name in todo:
                save_jpg(self.target / file_name, cut_window(image, y, x, self.size, SRGB_PADDING))
            return True
        mosaic, sites = self._load_raw(stem)
        for x, y, file_name in todo:
            save_npy(self.target / file_name, cut_planes(mosaic, sites, y, x, self.size))
        return True

    def _load_raw(self, stem: str) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
        """The oriented, border-cropped mosaic (the pixels of the packed planes) and the planes' ``plane_sites``."""
        raw, (height, width), orientation = read_pair(self.root, stem)
        if height % 2 or width % 2:
            raise BadInputError(f"{stem}{JPG_EXT}: odd size {height}x{width} cannot be sliced in 2x2 blocks")
        mosaic = displayed_mosaic(raw.mosaic, orientation, (height, width))
        return mosaic, plane_sites(raw.cfa_pattern, orientation, self.cfa_aware)


def cut_planes(mosaic: np.ndarray, sites, y: int, x: int, size: int) -> np.ndarray:
    """The float32 4 x size/2 x size/2 packed planes of the ``size`` px window at even (y, x) of a mosaic, plane k
    from block position ``sites[k]``, ``RAW_PADDING`` past the edges: ``cut_window`` of the packed planes, without
    packing the whole image first."""
    half = size // 2
    rows, cols = (min(size, max(0, n - start)) // 2 for n, start in zip(mosaic.shape, (y, x)))
    out = np.empty((len(sites), half, half), np.float32)
    if (rows, cols) != (half, half):
        out[...] = RAW_PADDING
    for plane, (dy, dx) in zip(out, sites):
        plane[:rows, :cols] = mosaic[y + dy:y + 2 * rows:2, x + dx:x + 2 * cols:2]
    return out


def cut_window(image: np.ndarray, y: int, x: int, size: int, padding) -> np.ndarray:
    """The ``size`` x ``size`` patch of an H x W x C image at (y, x), filled with ``padding`` past the edges."""
    patch = image[y:y + size, x:x + size]
    if patch.shape[:2] != (size, size):
        padded = np.empty((size, size, image.shape[2]), image.dtype)
        padded[...] = padding
        padded[:patch.shape[0], :patch.shape[1]] = patch
        patch = padded
    return patch


def convert_slice(root: str | os.PathLike, ann: str | os.PathLike, target: str | os.PathLike,
                  save_ann: str | os.PathLike, kind: str = "raw", size: int = 1280, gap: int = 300,
                  iof_thr: float = 0.4, img_rate_thr: float = 0.6, workers: int | None = None,
                  shard: tuple[int, int] | None = None, cfa_aware: bool = False) -> Summary:
    """Write the slices of every annotated image of ``ann`` and the slice annotation file ``save_ann``."""
    gt, _ = read_ground_truth(ann)  # validated: ids, boxes and categories, with messages naming the culprit
    try:
        ext = ".npy" if kind == "raw" else JPG_EXT
        sliced, windows = slice_annotations(gt, size, gap, iof_thr, img_rate_thr, ext)
    except BadInputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInputError(f"{ann}: images need 'width' and 'height' to be sliced ({exc!r})") from None
    job = SliceJob(Path(root), Path(target), kind, size, windows, cfa_aware)
    summary = run_jobs(list(windows), job, workers, shard, desc=f"slice {kind}")
    write_json(save_ann, sliced, indent=False)
    return summary
