"""Fixtures for the LUSS tests: synthetic masks written as real PNG files, the shared reference lists."""
from __future__ import annotations

from pathlib import Path

import pytest
from luss_data import make_pairs, write_pairs

# ../shared beside the repository
REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "imagenet_s"


@pytest.fixture
def folders(tmp_path):
    """Twelve ground-truth / prediction pairs for 5 classes as PNG folders: (gt_dir, pred_dir, names, pairs)."""
    pairs = make_pairs(0, 12, 5)
    gt_dir, pred_dir, names = write_pairs(tmp_path, pairs)
    return gt_dir, pred_dir, names, pairs


@pytest.fixture
def reference_lists():
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference/imagenet_s is not beside the checkout")
    return REFERENCE
