"""Fixtures of the other-RAW-datasets tests (the file locations are in raw_detection_files.py)."""
import pytest
from raw_detection_files import RAW_DETECTION


@pytest.fixture
def reference():
    """The raw_detection folder, or skip when ../shared is not beside the checkout."""
    if not RAW_DETECTION.is_dir():
        pytest.skip("../shared/reference/raw_detection is not beside the checkout")
    return RAW_DETECTION
