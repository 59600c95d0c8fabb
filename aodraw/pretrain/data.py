"""The pre-training data: an ImageNet-style folder (one subfolder per class) read with torchvision's ``ImageFolder``.

Each sample is one random resized crop (+ horizontal flip) of an image (``torchvision.transforms.v2`` on the float
image: bilinear with antialiasing, ImageNet's usual scale and aspect ranges), given twice: the sRGB crop for the
teacher and the synthetic RAW of the same crop for the student, rendered exactly as the detector sees a stored RAW
array (``synthesize`` -> ``render_raw``: official demosaic, [0, 255] scale, gamma 1/2.2, BGR). Both are then
normalised as the detection recipes' data preprocessor does (BGR -> RGB, mean 123.675/116.28/103.53, std
58.395/57.12/57.375). Every random draw (torchvision's crop and flip, the RAW synthesis) comes from (seed, epoch,
index), so a resumed run sees the same data whatever the number of workers.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.datasets import ImageFolder
from torchvision.datasets.folder import pil_loader
from torchvision.transforms import v2

from aodraw.detector_input import render_raw
from aodraw.pretrain.camera import Camera
from aodraw.pretrain.synthesize import IMAGE_EXTS, synthesize
from plumbing.errors import BadInputError

NORMALISE = v2.Normalize(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])  # RGB on the [0, 255] scale


def read_image(path: str) -> Image.Image:
    """An image file as an RGB PIL image (torchvision's loader: grey, RGBA, palette and CMYK converted). Raises
    BadInputError naming the file when it cannot be decoded."""
    try:
        return pil_loader(path)
    except OSError:  # PIL's UnidentifiedImageError and truncated files
        raise BadInputError(f"{path}: not a readable JPG/PNG image") from None


def is_image(path: str) -> bool:
    """Whether a file of a class folder is one of its images (JPG/PNG in any case, not hidden)."""
    name = os.path.basename(path)
    return name.lower().endswith(IMAGE_EXTS) and not name.startswith(".")


class ClassFolders(ImageFolder):
    """torchvision's ``ImageFolder`` (class index = position of the subfolder name in sorted order; the images of
    each class in sorted path order, subfolders included) that skips hidden subfolders such as ``.ipynb_checkpoints``,
    which would otherwise shift every label after them."""

    def find_classes(self, directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
        """(sorted visible class folder names, name -> class index) of ``directory``."""
        classes = sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))
        return classes, {name: i for i, name in enumerate(classes)}


def image_folder(root: str | os.PathLike, transform=None) -> ClassFolders:
    """The class folders of ``root`` with ``read_image`` as loader and ``transform`` applied to each image; a class
    folder without images is allowed. Raises BadInputError when ``root`` is not a folder or holds no images."""
    root = Path(root)
    if not root.is_dir():
        raise BadInputError(f"data root {root} is not a folder")
    folders = ClassFolders(os.fspath(root), loader=read_image, transform=transform, is_valid_file=is_image,
                           allow_empty=True)
    if not folders.samples:
        raise BadInputError(f"data root {root}: no class subfolders with JPG/PNG images")
    return folders


class DistillationDataset(torch.utils.data.Dataset):
    """Items: (teacher input, student input, label): 3 x size x size float32 tensors normalised as the detector's
    preprocessor does, and the class index. ``epoch`` (set by the trainer) changes every draw."""

    def __init__(self, root: str | os.PathLike, camera: Camera, size: int = 224, seed: int = 0,
                 scale=(0.08, 1.0)):
        if size % 2:
            raise BadInputError(f"crop size {size} must be even (the Bayer mosaic has 2 x 2 blocks)")
        crop = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True),  # 3 x H x W in [0, 1]
                           v2.RandomResizedCrop(size, scale=tuple(scale), antialias=True), v2.RandomHorizontalFlip()])
        self.images = image_folder(root, crop)
        self.classes = self.images.classes
        self.camera, self.seed = camera, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        with torch.random.fork_rng(devices=[]):  # torchvision draws from torch's global generator
            torch.manual_seed(int(rng.integers(2**63)))
            crop, label = self.images[index]
        rendered, _ = synthesize(np.ascontiguousarray(crop.permute(1, 2, 0).numpy()), self.camera, rng)
        student = render_raw(rendered)[..., ::-1]  # the detector's BGR image, then its preprocessor's BGR -> RGB
        return NORMALISE(crop * 255), NORMALISE(torch.from_numpy(student.transpose(2, 0, 1).copy())), label
