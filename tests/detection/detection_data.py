"""Helpers of the detection tests: hand-built ground truths and detections, written as JSON files."""
import json
from pathlib import Path


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


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
