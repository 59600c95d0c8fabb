"""Fixtures of the detection tests (hand-built helpers are in detection_data.py)."""
import copy

import pytest
from click.testing import CliRunner

from aodraw.cli import main as aodraw_main
from aodraw.synthetic import SyntheticSpec, make_dataset


@pytest.fixture(scope="session")
def aodraw_set():
    """A small AODRaw-style set: tags incl. two-tag images, ignore regions, ids from 0, some score ties."""
    gt, dt = make_dataset(SyntheticSpec(num_images=120, boxes_per_image=6, dets_per_image=25, num_classes=6, seed=7))
    for d in dt[::4]:
        d["score"] = round(d["score"], 2)
    return gt, dt


@pytest.fixture(scope="session")
def coco_set():
    """A small COCO-style set: no tags, 1% crowd boxes, no ignore category, ids from 0."""
    return make_dataset(SyntheticSpec(num_images=80, width=640, height=480, boxes_per_image=7, dets_per_image=20,
                                      num_classes=8, tags=False, ignore_regions=0, crowd=0.02, max_size=300, seed=3))


@pytest.fixture
def fresh(aodraw_set):
    """Deep copies of the AODRaw-style set that a test may modify."""
    return copy.deepcopy(aodraw_set)


@pytest.fixture
def cli():
    def run(*args):
        return CliRunner().invoke(aodraw_main, [str(a) for a in args], catch_exceptions=False)
    return run
