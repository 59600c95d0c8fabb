"""Real submission files for the leaderboard tests: a small synthetic AODRaw-style test set, detections, and zips
of them with method.txt (AODRaw) or of PNG predictions (ImageNet-S)."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from aodraw.synthetic import SyntheticSpec, make_dataset


def method_txt(name: str, kind: str = "raw", backbone: str = "ResNet-50") -> bytes:
    """An AODRaw method.txt with every field."""
    return (f"Method name: {name}\nInput: {kind}\nBackbone: {backbone}\nPre-training: ImageNet-1k\n"
            f"Paper/Project link: https://example.org/{name.replace(' ', '-')}\n"
            f"Method description: {name} <b>on</b> RAW & sRGB\n").encode()


def write_detection_set(root: Path, images: int = 40, seed: int = 3) -> tuple[Path, list]:
    """``root/gt.json`` (conditions, ignore regions) and the synthetic detector's results: (gt path, detections)."""
    gt, dt = make_dataset(SyntheticSpec(num_images=images, seed=seed, width=900, height=600, boxes_per_image=5))
    root.mkdir(parents=True, exist_ok=True)
    (root / "gt.json").write_text(json.dumps(gt))
    return root / "gt.json", dt


def jittered(dt: list, pixels: float, seed: int = 0) -> list:
    """The detections with every box moved by Gaussian noise of ``pixels`` standard deviation."""
    rng = np.random.default_rng(seed)
    out = []
    for d in dt:
        box = np.array(d["bbox"], float) + rng.normal(0, pixels, 4)
        box[2:] = np.maximum(box[2:], 1)
        out.append({**d, "bbox": [float(v) for v in box]})
    return out


def write_zip(path: Path, members: dict, compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip of ``{name: bytes | str}`` (written plainly: fixtures need no atomic writes)."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def detection_zip(path: Path, dt: list, method: bytes | None, results_name: str = "results.json") -> Path:
    """An AODRaw submission zip: the results JSON and (unless None) method.txt."""
    members = {results_name: json.dumps(dt)}
    if method is not None:
        members["method.txt"] = method
    return write_zip(path, members)
