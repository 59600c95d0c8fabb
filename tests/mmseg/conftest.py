"""Fixtures of the MMSegmentation tests."""
import pytest
from seg_data import write_tree


@pytest.fixture(scope="session")
def tiny_tree(tmp_path_factory):
    """The tiny ImageNet-S-style tree (see seg_data.write_tree), written once per session."""
    return write_tree(tmp_path_factory.mktemp("imagenet_s_tiny"))
