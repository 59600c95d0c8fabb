"""Data transforms MMPretrain lacks for multi-crop self-distillation (registered in MMPretrain's ``TRANSFORMS``).

- ``RandomResizedCropWithBox``: MMPretrain's ``RandomResizedCrop`` that also records where the crop lies in the
  image (``crop_box``), which SERE needs to align two views on their overlap.
- ``IBOTBlockMask``: iBOT's per-image block-wise mask (ratio drawn per image, a fraction of images unmasked) on top of
  MMPretrain's ``BEiTMaskGenerator`` blocks.
- ``MultiCropView``: MMPretrain's ``MultiView`` (global and local view pipelines) that also keeps each view's
  ``crop_box`` (flips applied) and block mask, as the lists ``view_boxes`` and ``view_masks`` (None where a view has
  none); pack them with ``PackInputs(algorithm_keys=['view_boxes', 'view_masks'])``.

Box convention (``view_boxes``): (x_left, y_top, x_right, y_bottom) in the source image, as fractions of its width
and height, where "left" is the view's column 0. A horizontal flip swaps x_left and x_right, so a view pixel at
fraction (u, v) of the view comes from (x_left + u (x_right - x_left), y_top + v (y_bottom - y_top)) of the image.
"""
from __future__ import annotations

import copy
import random

import mmcv
import numpy as np
from mmpretrain.datasets.transforms import BEiTMaskGenerator, MultiView, RandomResizedCrop
from mmpretrain.registry import TRANSFORMS

from plumbing.errors import BadInputError


@TRANSFORMS.register_module()
class RandomResizedCropWithBox(RandomResizedCrop):
    """``mmpretrain``'s ``RandomResizedCrop`` (same arguments, same sampling) that also adds ``crop_box``: (x0, y0,
    x1, y1) of the crop as fractions of the source image's width/height (x1, y1 exclusive)."""

    def transform(self, results: dict) -> dict:
        """Crop and resize ``results['img']``; adds ``crop_box`` (4 floats)."""
        img = results["img"]
        height, width = img.shape[:2]
        top, left, crop_h, crop_w = self.rand_crop_params(img)
        img = mmcv.imcrop(img, bboxes=np.array([left, top, left + crop_w - 1, top + crop_h - 1]))
        img = mmcv.imresize(img, tuple(self.scale[::-1]), interpolation=self.interpolation, backend=self.backend)
        results["img"], results["img_shape"] = img, img.shape
        results["crop_box"] = np.array([left / width, top / height, (left + crop_w) / width, (top + crop_h) / height],
                                       dtype=np.float32)
        return results


@TRANSFORMS.register_module()
class IBOTBlockMask(BEiTMaskGenerator):
    """iBOT's block-wise mask for one view (adds ``ibot_mask``, h x w bool, True = masked).

    Per image one entry of ``pred_ratio`` is chosen at random and the ratio is drawn uniformly in
    ``[ratio - var, ratio + var]`` (iBOT's ``--pred_ratio 0 0.3 --pred_ratio_var 0 0.2``: half the images unmasked, the
    others 10%..50% masked); then BEiT's blocks (at least ``min_num_patches`` patches, aspect ratio in
    ``[min_aspect, 1/min_aspect]``) are added until the count is reached or no block fits (iBOT stops there).

    Args:
        input_size: the patch grid of the view (14 for 224 px and patch 16).
        pred_ratio: candidate centre ratios.
        pred_ratio_var: their half-widths (same length).
    """

    def __init__(self, input_size: int, pred_ratio=(0.0, 0.3), pred_ratio_var=(0.0, 0.2), min_num_patches: int = 4,
                 min_aspect: float = 0.3):
        super().__init__(input_size, num_masking_patches=0, min_num_patches=min_num_patches, min_aspect=min_aspect)
        pred_ratio, pred_ratio_var = tuple(pred_ratio), tuple(pred_ratio_var)
        if len(pred_ratio) != len(pred_ratio_var):
            raise BadInputError(f"IBOTBlockMask: pred_ratio {pred_ratio} and pred_ratio_var {pred_ratio_var} "
                                "differ in length")
        self.pred_ratio, self.pred_ratio_var = pred_ratio, pred_ratio_var

    def sample_ratio(self) -> float:
        """One masking ratio, drawn as described in the class docstring."""
        pick = random.randrange(len(self.pred_ratio))
        ratio, var = self.pred_ratio[pick], self.pred_ratio_var[pick]
        return random.uniform(ratio - var, ratio + var) if var > 0 else ratio

    def sample(self) -> np.ndarray:
        """One mask (h x w bool)."""
        mask = np.zeros((self.height, self.width), dtype=int)
        target = int(round(self.sample_ratio() * self.num_patches))
        count = 0
        while count < target:
            delta = self._mask(mask, target - count)
            if delta == 0:
                break
            count += delta
        return mask.astype(bool)

    def transform(self, results: dict) -> dict:
        """Adds ``ibot_mask`` (h x w bool)."""
        results["ibot_mask"] = self.sample()
        return results


@TRANSFORMS.register_module()
class MultiCropView(MultiView):
    """``mmpretrain``'s ``MultiView`` (``num_views=[2, 10]``, ``transforms=[global_pipeline, local_pipeline]``)
    that also collects per view ``view_boxes`` (4 floats, see the module docstring; None when the view's pipeline has
    no ``RandomResizedCropWithBox``) and ``view_masks`` (``ibot_mask`` or None)."""

    def transform(self, results: dict) -> dict:
        """Adds ``img`` (list of views), ``view_boxes`` and ``view_masks`` (lists, one entry per view)."""
        images, boxes, masks = [], [], []
        for pipeline in self.transforms:
            outputs = pipeline(copy.deepcopy(results))
            images.append(outputs["img"])
            box = outputs.get("crop_box")
            if box is not None and outputs.get("flip") and outputs.get("flip_direction", "horizontal") == "horizontal":
                box = box[[2, 1, 0, 3]]
            boxes.append(box)
            masks.append(outputs.get("ibot_mask"))
        results.update(img=images, view_boxes=boxes, view_masks=masks)
        return results


def patch_grid(image_size: int, patch_size: int) -> int:
    """Patch-grid side for a square view (224, 16 -> 14); raises BadInputError if it does not divide."""
    if image_size % patch_size:
        raise BadInputError(f"view size {image_size} is not a multiple of the patch size {patch_size}")
    return image_size // patch_size


__all__ = ["RandomResizedCropWithBox", "IBOTBlockMask", "MultiCropView", "patch_grid"]
