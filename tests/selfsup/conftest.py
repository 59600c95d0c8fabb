"""Fixtures of the iBOT/SERE/HSSL tests: MMPretrain's default scope, seeded single-thread runs with a momentum
schedule of 100 iterations, a tiny generated image folder. Without the train extra (a core install) the folder is
not collected, as the MMDetection tests; under ``CI=true`` it always is."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from train_extra import CI

HAVE_TRAIN_EXTRA = all(importlib.util.find_spec(name) for name in ("torch", "mmengine", "mmpretrain"))
collect_ignore_glob = [] if CI or HAVE_TRAIN_EXTRA else ["test_*.py"]


@pytest.fixture(autouse=True)
def _quiet_seeded():
    import torch
    from mmengine.logging import MessageHub
    from mmengine.registry import init_default_scope

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
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    (root / "a").mkdir()
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:40, 0:48]
    for i in range(8):
        base = np.stack([xx * (3 + i), yy * (5 - i % 3), (xx + yy) * 2], -1) % 256
        img = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        Image.fromarray(img).save(root / "a" / f"img{i}.jpg")
    return root
