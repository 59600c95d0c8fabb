"""The inputs of ``aodraw infer``: which images (an annotation file, a folder or both), the category id of each
class, and a torch ``Dataset`` that prepares whole images, or the sliding windows of full-resolution images, with the
config's test pipeline."""
from __future__ import annotations

import os.path as osp
from dataclasses import dataclass
from pathlib import Path

import torch
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS
from mmengine.dataset import Compose

from aodraw.convert.slice import RAW_PADDING, SRGB_PADDING, cut_window, sliding_windows
from aodraw.mmdet.metric import AODRawMetric
from aodraw.mmdet.transforms import LoadAODRawImageFromFile
from evaluators.detection.validate import read_ground_truth
from plumbing.errors import BadInputError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
ANNOTATION_STEPS = ("LoadAnnotations", "mmdet.LoadAnnotations")


@dataclass(frozen=True)
class Image:
    """One image to run inference on: its id as in the annotation file, its file name and its path."""
    id: int | str  # exactly as the annotation file has it (a string id stays a string)
    file_name: str
    path: str


def parse_slices(text: str) -> tuple[int, int]:
    """``SIZE:GAP`` as two integers (window size, even, larger than the overlap ``GAP`` >= 0)."""
    try:
        size, gap = (int(v) for v in text.split(":"))
    except ValueError:
        raise BadInputError(f"--slices: expected SIZE:GAP such as 1280:300, got {text!r}") from None
    if not (0 <= gap < size and size % 2 == 0):
        raise BadInputError(f"--slices: need an even SIZE larger than GAP >= 0, got {text!r}")
    return size, gap


def inference_pipeline(cfg) -> list:
    """The config's test pipeline without its annotation loading, built (the first step loads the image)."""
    steps = [TRANSFORMS.build(s) for s in cfg.test_dataloader.dataset.pipeline if s["type"] not in ANNOTATION_STEPS]
    if not steps or not isinstance(steps[0], (LoadAODRawImageFromFile, LoadImageFromFile)):
        raise BadInputError("the config's test pipeline must start with LoadAODRawImageFromFile or LoadImageFromFile")
    return steps


def config_image_root(cfg) -> str:
    """Where the config's test images are: ``data_root`` + ``data_prefix.img``."""
    dataset = cfg.test_dataloader.dataset
    return osp.join(dataset.get("data_root") or "", (dataset.get("data_prefix") or {}).get("img", ""))


def config_ann_file(cfg) -> str | None:
    """The config's test annotation file, if it exists here."""
    dataset = cfg.test_dataloader.dataset
    ann = dataset.get("ann_file")
    path = ann if not ann or osp.isabs(ann) else osp.join(dataset.get("data_root") or "", ann)
    return path if path and osp.isfile(path) else None


def images_from_ann(ann: str, root: str, loader) -> list[Image]:
    """The images of a COCO annotation file resolved under ``root`` (each checked to exist)."""
    obj, _ = read_ground_truth(ann)  # validated: ids and categories, with messages naming the entry
    images = []
    for i, entry in enumerate(obj["images"]):
        name = entry.get("file_name")
        if not isinstance(name, str) or not name:
            raise BadInputError(f"{ann}: image {i} (id {entry['id']}): needs a 'file_name' string")
        path = Path(root) / name
        path = loader.stored_path(path) if isinstance(loader, LoadAODRawImageFromFile) else path
        if not path.is_file():
            raise BadInputError(f"{ann}: image {i} (id {entry['id']}): {path} not found")
        images.append(Image(entry["id"], name, str(path)))
    return images


def images_from_folder(folder: str, loader) -> list[Image]:
    """Every image file of ``folder`` in sorted order, numbered from 0: ``*.npy`` (the RAW loader's suffix) for RAW
    configs, common image suffixes (JPG, PNG, ...) otherwise."""
    root = Path(folder)
    if not root.is_dir():
        raise BadInputError(f"{folder}: --images must be a folder")
    if isinstance(loader, LoadAODRawImageFromFile):
        names = sorted(p.name for p in root.iterdir() if p.suffix == loader.suffix and p.is_file())
        wanted = f"*{loader.suffix}"
    else:
        names = sorted(p.name for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        wanted = "/".join(IMAGE_SUFFIXES)
    if not names:
        raise BadInputError(f"{folder}: no image files ({wanted}) for this config")
    return [Image(i, name, str(root / name)) for i, name in enumerate(names)]


def category_ids(classes, ann: str | None) -> tuple[list[int], list[dict]]:
    """The category id of each class index and the categories (id, name) they stand for.

    With an annotation file: matched by name as ``AODRawMetric`` does (classes: the model's, else the file's
    categories without ``ignore``). Without one: the class index is the id."""
    if ann is None:
        if not classes:
            raise BadInputError("the model's class names are unknown (no dataset_meta in the checkpoint, no "
                                "metainfo.classes in the config, no test annotation file); give --ann")
        return list(range(len(classes))), [{"id": i, "name": n} for i, n in enumerate(classes)]
    metric = AODRawMetric(ann_file=ann)
    if classes:
        metric.dataset_meta = {"classes": tuple(classes)}
    try:
        ids = metric.category_ids()
    except ValueError as exc:
        raise BadInputError(str(exc)) from None
    names = dict(zip(metric.gt.cat_ids.tolist(), metric.gt.cat_names))
    return ids, [{"id": i, "name": names[i]} for i in ids]


class InferenceDataset(torch.utils.data.Dataset):
    """One item per image: its prepared samples (one, or one per window with ``slices``), their (x, y) offsets in
    the image, and the image's height and width; a failure is returned as ``{"error": message}`` so that it reaches
    the caller as one line.

    Sliced inference cuts the official windows (``sliding_windows``) out of a full-resolution input and pads them as
    ``aodraw convert slice`` does: a RAW config reads a Bayer pack ``NAME.npy`` (4 x H/2 x W/2, as ``aodraw convert
    bayer`` writes; windows cut at (y/2, x/2), padding 0) or a 3 x H x W array, rendered per window by the loader;
    an sRGB config reads the image with its loader (windows padded with the BGR mean (104, 116, 124))."""

    def __init__(self, images: list[Image], pipeline: list, slices: tuple[int, int] | None = None):
        self.images = images
        self.slices = slices
        self.loader = pipeline[0]
        self.whole = Compose(pipeline)
        self.rest = Compose(pipeline[1:])

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict:
        image = self.images[index]
        try:
            if self.slices is None:
                sample = self.whole({"img_path": image.path, "img_id": image.id})
                return {"samples": [sample], "offsets": [(0, 0)],
                        "size": tuple(sample["data_samples"].ori_shape)}
            return self._windows(image)
        except BadInputError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 -- any loader failure is reported as this file's problem
            return {"error": f"{image.path}: cannot read the image ({type(exc).__name__}: {exc})"}

    def _windows(self, image: Image) -> dict:
        size, gap = self.slices
        if isinstance(self.loader, LoadAODRawImageFromFile):
            path, array = self.loader.read(image.path)
            if array.ndim != 3 or array.shape[0] not in (3, 4):
                raise BadInputError(f"{path}: sliced RAW input must be a 4 x H/2 x W/2 Bayer pack or 3 x H x W, "
                                    f"got shape {array.shape}")
            scale = 2 if array.shape[0] == 4 else 1
            planes = array.transpose(1, 2, 0)
            height, width = planes.shape[0] * scale, planes.shape[1] * scale
        else:
            img = self.loader({"img_path": image.path})["img"]
            height, width = img.shape[:2]
        samples, offsets = [], []
        for x1, y1, _, _ in sliding_windows(width, height, size, gap).tolist():
            if isinstance(self.loader, LoadAODRawImageFromFile):
                patch = cut_window(planes, y1 // scale, x1 // scale, size // scale, RAW_PADDING)
                try:
                    window = self.loader.render(patch.transpose(2, 0, 1))
                except BadInputError as exc:
                    raise BadInputError(f"{path}: {exc}") from None
            else:
                window = cut_window(img, y1, x1, size, SRGB_PADDING)
            results = {"img": window, "img_shape": window.shape[:2], "ori_shape": window.shape[:2],
                       "img_path": image.path, "img_id": image.id}
            samples.append(self.rest(results))
            offsets.append((x1, y1))
        return {"samples": samples, "offsets": offsets, "size": (height, width)}
