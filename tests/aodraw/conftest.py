"""Fixtures of the RAW tests (the pairs themselves are in raw_pairs.py)."""
import pytest
from raw_pairs import make_pairs


@pytest.fixture
def images(tmp_path):
    """(root folder, {name: mosaic}) of the four pairs in PAIRS."""
    root = tmp_path / "images"
    return root, make_pairs(root)
