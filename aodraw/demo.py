"""``aodraw demo``: the main job on embedded synthetic data, no torch needed.

First the RAW stages: a few synthetic RAW/JPG pairs converted like the official folders (downsample, slices),
synthetic detections on the slices merged back to whole images and scored there. Then a seeded synthetic
AODRaw-style test set (real category names, condition tags, ignore regions) scored with the AODRaw protocol."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from aodraw.annotations import downsample_annotations
from aodraw.categories import CONDITIONS, categories
from aodraw.convert.downsample import convert_downsample
from aodraw.convert.merge import merge_slices
from aodraw.convert.slice import convert_slice
from aodraw.leaderboard import board_columns, leaderboard, site_board
from aodraw.synthetic import SyntheticSpec, make_dataset
from aodraw.synthetic_raw import write_pair
from evaluators.detection import evaluate_detections
from evaluators.detection.core import DetectionResult
from plumbing.files import write_csv, write_json
from plumbing.site import build_site

# name -> (sensor height, width, EXIF orientation of the JPG)
PAIRS = {"00000000": (400, 600, None), "00000001": (400, 600, None), "00000002": (400, 600, 8),
         "00000003": (400, 600, None)}


def raw_demo(out: Path, seed: int = 0) -> list[str]:
    """Run the RAW stages under ``out``; return the report lines."""
    rng = np.random.default_rng(seed)
    images = out / "images"
    images.mkdir(parents=True, exist_ok=True)
    gt = {"images": [], "annotations": [], "categories": categories()}
    for i, (name, (h, w, orientation)) in enumerate(PAIRS.items()):
        write_pair(images, name, h, w, seed=seed + i, orientation=orientation)
        if orientation == 8:
            h, w = w, h
        gt["images"].append({"id": i, "file_name": f"{name}.JPG", "width": w, "height": h,
                             "tag": list(CONDITIONS[i % len(CONDITIONS)])})
        for _ in range(6):
            bw, bh = rng.uniform(20, 120, 2)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            gt["annotations"].append({"id": len(gt["annotations"]), "image_id": i, "category_id": int(rng.integers(5)),
                                      "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0, "ignore": 0})
    write_json(out / "annotations.json", gt, indent=False)
    lines = [f"synthetic RAW set: {len(PAIRS)} DNG .ARW + JPG pairs of 600x400 (one turned by EXIF) -> {images}"]
    for kind in ("raw", "srgb"):
        s = convert_downsample(images, out / f"images_downsampled_{kind}", kind, workers=2)
        lines.append(f"convert downsample --kind {kind}: converted {len(s.converted)}, skipped {len(s.skipped)} "
                     f"(already complete), failed {len(s.failed)}")
    small = downsample_annotations(out / "annotations.json")
    write_json(out / "annotations_downsample.json", small, indent=False)
    s = convert_slice(images, out / "annotations.json", out / "images_slice_raw", out / "annotations_slice.json",
                      "raw", size=256, gap=64, workers=2)
    slice_dt = _slice_detections(out / "annotations_slice.json", rng)
    write_json(out / "slice_dt.json", slice_dt, indent=False)
    merged = merge_slices(out / "annotations_slice.json", out / "slice_dt.json")
    write_json(out / "merged_dt.json", merged, indent=False)
    result = evaluate_detections(out / "annotations.json", out / "merged_dt.json", preset="aodraw")
    n_slices = len(list((out / "images_slice_raw").glob("*.npy")))
    lines.append(f"convert slice --kind raw --size 256 --gap 64: {n_slices} slices, failed {len(s.failed)}")
    ignored = sum(a["iscrowd"] for a in small["annotations"])
    lines.append(f"annotations downsample: {len(small['annotations'])} boxes, {ignored} below 32 px ignored")
    lines.append(f"merge-slices: {len(slice_dt)} slice detections -> {len(merged)} full-image detections; "
                 f"scored on the full images: AP {result.metrics['AP']:.3f}, AP50 {result.metrics['AP50']:.3f}")
    return lines


def _slice_detections(slice_ann: Path, rng) -> list[dict]:
    """A plausible slice detector: every non-crowd slice box found with a little jitter, plus a false positive."""
    import orjson

    sliced = orjson.loads(slice_ann.read_bytes())
    dets = []
    for ann in sliced["annotations"]:
        if ann["iscrowd"]:
            continue
        box = np.array(ann["bbox"], float) + rng.normal(0, 1.5, 4)
        box[2:] = np.maximum(box[2:], 2)
        dets.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                     "bbox": box.round(2).tolist(), "score": round(float(rng.uniform(0.5, 1)), 4)})
    for image in sliced["images"]:
        dets.append({"image_id": image["id"], "category_id": 0, "bbox": [5.0, 5.0, 30.0, 30.0], "score": 0.05})
    return dets


def run_demo(out: str | Path, images: int = 400, seed: int = 0) -> tuple[list[str], DetectionResult]:
    """Run the whole demo under ``out``: the RAW stages (``out/raw/``), then ``out/gt.json`` and ``out/dt.json``
    (``images`` synthetic test images and their detections, seeded) scored with the AODRaw protocol. Returns the
    report lines and the result (the caller writes and prints it)."""
    out = Path(out)
    lines = raw_demo(out / "raw", seed)
    gt, dt = make_dataset(SyntheticSpec(num_images=images, seed=seed))
    write_json(out / "gt.json", gt, indent=False)
    write_json(out / "dt.json", dt, indent=False)
    lines.append(f"synthetic AODRaw-style test set: {len(gt['images'])} images, {len(gt['annotations'])} boxes, "
                 f"{len(dt)} detections -> {out}/gt.json, {out}/dt.json")
    return lines, evaluate_detections(out / "gt.json", out / "dt.json", preset="aodraw")


# name -> (method.txt fields, how the demo detections are changed)
DEMO_SUBMISSIONS = {
    "baseline": ("Demo baseline", "srgb", "the demo detections as they are"),
    "jitter": ("Demo jittered boxes", "raw", "every box moved by a few pixels: AP75 suffers most"),
    "pruned": ("Demo pruned", "raw", "a random 35% of the detections dropped: recall suffers"),
}


def _perturbed(dt: list[dict], how: str, rng) -> list[dict]:
    if how == "jitter":
        out = []
        for d in dt:
            box = np.array(d["bbox"], float) + rng.normal(0, 3.0, 4)
            box[2:] = np.maximum(box[2:], 1)
            out.append({**d, "bbox": box.round(2).tolist()})
        return out
    if how == "pruned":
        return [d for d in dt if rng.random() >= 0.35]
    return dt


def leaderboard_demo(out: str | Path, seed: int = 0) -> list[str]:
    """Score a few perturbed copies of ``out/dt.json`` against ``out/gt.json`` as submission zips (plus one
    hostile zip, refused) with ``aodraw leaderboard``'s library path: writes ``out/submissions/``,
    ``out/board.csv`` and the static site ``out/leaderboard/``; returns the report lines."""
    import orjson

    out = Path(out)
    rng = np.random.default_rng(seed + 1)
    dt = orjson.loads((out / "dt.json").read_bytes())
    folder = out / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (method, kind, description) in DEMO_SUBMISSIONS.items():
        text = (f"Method name: {method}\nInput: {kind}\nBackbone: synthetic\nPre-training: none\n"
                f"Paper/Project link: https://github.com/lzyhha/AODRaw\nMethod description: {description}\n")
        with zipfile.ZipFile(folder / f"{name}.zip.tmp", "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("results.json", orjson.dumps(_perturbed(dt, name, rng)))
            zf.writestr("method.txt", text)
        (folder / f"{name}.zip.tmp").replace(folder / f"{name}.zip")
    with zipfile.ZipFile(folder / "hostile.zip.tmp", "w") as zf:
        zf.writestr("../escape.json", b"[]")
    (folder / "hostile.zip.tmp").replace(folder / "hostile.zip")
    messages: list[str] = []
    rows = leaderboard(folder, out / "gt.json", "aodraw", notify=messages.append, plots=True)
    columns = board_columns(rows)
    write_csv(out / "board.csv", columns, [[row.get(c, "") for c in columns] for row in rows])
    index = build_site(out / "leaderboard", [site_board(rows, "aodraw")], "AODRaw demo leaderboard")
    lines = [f"leaderboard: {len(rows)} submissions in {folder} ({sum(r['status'] == 'ok' for r in rows)} scored, "
             f"{sum(r['status'] != 'ok' for r in rows)} refused) -> {out / 'board.csv'}"]
    lines += [f"  {r.get('rank', '-')}. {r.get('method') or r['submission']}: "
              + (f"AP {100 * r['AP']:.2f}" if r["status"] == "ok" else r["status"]) for r in rows]
    lines.append(f"leaderboard site: open {index.resolve()} in a browser "
                 f"(or serve it: python -m http.server -d {out / 'leaderboard'})")
    return lines
