import copy
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from aodraw.cli import main as aodraw_main
from aodraw.synthetic import SyntheticSpec, make_dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/official_reference.py


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


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


@pytest.fixture
def cli():
    def run(*args):
        return CliRunner().invoke(aodraw_main, [str(a) for a in args], catch_exceptions=False)
    return run


def box(x, y, w, h, cat=1, **extra):
    return {"bbox": [x, y, w, h], "category_id": cat, **extra}


def tiny_gt(annotations, tags=None, categories=None, images=1):
    """A hand-built ground truth: images 1..n of 100x100, annotations given as box() dicts."""
    cats = categories or [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    imgs = [{"id": i, "width": 100, "height": 100, **({"tag": tags[i - 1]} if tags else {})}
            for i in range(1, images + 1)]
    anns = []
    for n, a in enumerate(annotations):
        a = dict(a)
        a.setdefault("image_id", 1)
        a.setdefault("id", n + 1)
        a.setdefault("iscrowd", 0)
        a.setdefault("area", a["bbox"][2] * a["bbox"][3])
        anns.append(a)
    return {"images": imgs, "annotations": anns, "categories": cats}


def det(x, y, w, h, score, cat=1, image_id=1):
    return {"image_id": image_id, "category_id": cat, "bbox": [x, y, w, h], "score": score}
