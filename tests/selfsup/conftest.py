"""Fixtures of the iBOT/SERE/HSSL tests: MMPretrain's default scope, seeded single-thread runs with a momentum
schedule of 100 iterations, a tiny generated image folder."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope
from PIL import Image


@pytest.fixture(autouse=True)
def _quiet_seeded():
    init_default_scope("mmpretrain")  # a test that builds a detector switches it to mmdet
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(1)
    MessageHub.get_current_instance().update_info("max_iters", 100)
    MessageHub.get_current_instance().update_info("epoch", 0)
    yield


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """8 generated 48 x 40 RGB JPEGs (smooth gradients plus noise) in one class folder."""
    root = tmp_path_factory.mktemp("images")
    (root / "a").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:48]
    for i in range(8):
        base = np.stack([xx * (3 + i), yy * (5 - i % 3), (xx + yy) * 2], -1) % 256
        img = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / "a" / f"img{i}.jpg")
    return root
