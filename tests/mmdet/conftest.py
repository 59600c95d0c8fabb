"""Fixtures of the MMDetection tests."""
import pytest
from mmdet_data import write_dataset


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """The tiny AODRaw-style dataset (see mmdet_data.write_dataset), written once per session."""
    return write_dataset(tmp_path_factory.mktemp("aodraw_tiny"))
