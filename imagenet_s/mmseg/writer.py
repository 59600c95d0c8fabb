"""Saving predictions in the official PNG format (id = R + 256 * G, original image size, ``wnid/NAME.png``)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from mmengine.hooks import Hook
from mmseg.registry import HOOKS

from evaluators.luss.masks import write_mask


def prediction_name(img_path: str | os.PathLike) -> str:
    """The official relative name of an image's prediction: ``wnid/NAME.png`` for ``.../wnid/NAME.JPEG``."""
    path = Path(img_path)
    return f"{path.parent.name}/{path.stem}.png"


def save_prediction(out_dir: str | os.PathLike, img_path: str | os.PathLike, ids) -> Path:
    """Write class ids (H, W; a NumPy array or a tensor) as ``OUT_DIR/wnid/NAME.png`` atomically (the evaluators'
    encoder); returns the path."""
    if hasattr(ids, "cpu"):
        ids = ids.cpu().numpy()
    return write_mask(Path(out_dir) / prediction_name(img_path), np.asarray(ids).astype(np.int32))


@HOOKS.register_module()
class SaveLUSSPredictionsHook(Hook):
    """After each test (and optionally validation) iteration, write every sample's ``pred_sem_seg`` as an official
    PNG ``OUT_DIR/wnid/NAME.png`` at the original image size (``tools/test.py --pred-dir``)."""

    priority = "LOW"

    def __init__(self, out_dir: str, on_val: bool = False):
        self.out_dir, self.on_val = out_dir, on_val

    def _save(self, outputs) -> None:
        for sample in outputs or []:
            save_prediction(self.out_dir, sample.metainfo["img_path"], sample.pred_sem_seg.data[0])

    def after_test_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        """Write the batch's predictions (MMEngine hook)."""
        self._save(outputs)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        """Write the batch's predictions when ``on_val`` (MMEngine hook)."""
        if self.on_val:
            self._save(outputs)
