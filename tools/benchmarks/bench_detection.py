#!/usr/bin/env python3
"""Detection evaluation speed: ours vs pycocotools, faster-coco-eval and plain hotcoco, side by side.

Seeded synthetic data (aodraw.synthetic):
  coco-20 / coco-100: 5,000 images of 1333x800, 80 classes, Poisson(7.4) boxes (~37k), sizes 6..500 px,
                      1% crowd, 20 or 100 detections per image, ids from 1 as in COCO; preset coco.
  aodraw:             2,340 images of 2000x1333, 61 classes + ignore regions, condition tags (incl. two-tag
                      images), ~39k boxes, 100 detections per image, a box with id 0; preset aodraw with
                      every condition bucket (the peers evaluate the same files plainly, without ignore
                      regions or buckets, so they do less work).
Each engine runs in its own process: time = load JSON + evaluate + accumulate (+ all buckets for ours),
medians over --repeats runs (one run of our slow pycocotools backend), peak RSS of that process. Ours decodes the
last part of a large detections file in a forked helper (evaluators.detection.typed.DetectionDecoding) while it reads
the ground truth and the first part; the helper's peak RSS (which counts the pages it shares with its parent) is
printed beside ours.
Prints `<work>: ours <median s> | <peer> <median s> | ratio <peer/ours>x | identical: yes/no`.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AODRAW_AREAS = [[0, 1e10], [0, 128 ** 2], [128 ** 2, 320 ** 2], [320 ** 2, 1e10]]
WORKLOADS = {
    "coco-20": dict(preset="coco", num_images=5000, width=1333, height=800, boxes_per_image=7.4, dets_per_image=20,
                    num_classes=80, min_size=6, max_size=500, tags=False, ignore_regions=0, crowd=0.01, first_id=1),
    "coco-100": dict(preset="coco", num_images=5000, width=1333, height=800, boxes_per_image=7.4,
                     dets_per_image=100, num_classes=80, min_size=6, max_size=500, tags=False, ignore_regions=0,
                     crowd=0.01, first_id=1),
    "aodraw": dict(preset="aodraw", num_images=2340, width=2000, height=1333, boxes_per_image=16.2,
                   dets_per_image=100, num_classes=61, ignore_regions=0.25),
}
PEERS = ("hotcoco", "faster-coco-eval", "pycocotools")


def make_files(name: str, folder: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(REPO))
    from aodraw.synthetic import SyntheticSpec, make_dataset
    from plumbing.files import write_json

    spec = {k: v for k, v in WORKLOADS[name].items() if k != "preset"}
    gt, dt = make_dataset(SyntheticSpec(seed=2026, **spec))
    return write_json(folder / f"{name}.gt.json", gt, indent=False), write_json(folder / f"{name}.dt.json", dt,
                                                                                   indent=False)


def run_engine(engine: str, gt: str, dt: str, preset: str) -> dict:
    """Runs inside the worker process; returns seconds, stats and peak memory."""
    sys.path.insert(0, str(REPO))
    aodraw = preset == "aodraw"
    if engine.startswith("ours"):
        from evaluators.detection import evaluate_detections
        start = time.perf_counter()
        result = evaluate_detections(gt, dt, preset=preset, backend=engine.split(":")[1])
        seconds, stats = time.perf_counter() - start, result.stats
    else:
        if engine == "hotcoco":
            from hotcoco import COCO, COCOeval
        elif engine == "faster-coco-eval":
            from faster_coco_eval import COCO
            from faster_coco_eval import COCOeval_faster as COCOeval
        else:
            from pycocotools.coco import COCO
            from pycocotools.cocoeval import COCOeval
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            coco_gt = COCO(gt)
            ev = COCOeval(coco_gt, coco_gt.loadRes(dt), "bbox")
            if aodraw:
                if engine == "hotcoco":
                    p = ev.params
                    p.max_dets, p.area_rng = [100, 300, 1000], AODRAW_AREAS
                    ev.params = p
                else:
                    ev.params.maxDets, ev.params.areaRng = [100, 300, 1000], AODRAW_AREAS
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            seconds = time.perf_counter() - start
        stats = [float(s) for s in ev.stats]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # ours: the decoding helper
    return {"seconds": seconds, "stats": stats, "peak_mb": peak_mb, "helper_mb": helper_mb}


def measure(engine: str, gt: Path, dt: Path, preset: str, repeats: int) -> dict:
    runs = []
    while len(runs) < repeats:
        out = subprocess.run([sys.executable, __file__, "--worker", engine, str(gt), str(dt), preset],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"seconds": statistics.median(r["seconds"] for r in runs), "stats": runs[0]["stats"],
            "peak_mb": max(r["peak_mb"] for r in runs), "helper_mb": max(r["helper_mb"] for r in runs),
            "runs": len(runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--peers", nargs="+", default=list(PEERS), choices=list(PEERS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per engine; the median is printed")
    parser.add_argument("--reference-backend", action="store_true",
                        help="also time our pycocotools backend once on the aodraw workload (~2 minutes)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_engine(*args.worker)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads:
            preset = WORKLOADS[name]["preset"]
            gt, dt = make_files(name, Path(tmp))
            ours = measure("ours:hotcoco", gt, dt, preset, args.repeats)
            helper = f" + decoding helper {ours['helper_mb']:.0f} MB" if ours["helper_mb"] else ""
            print(f"{name}: ours {ours['seconds']:.3f} s, peak {ours['peak_mb']:.0f} MB{helper} "
                  f"({'all condition buckets, ' if preset == 'aodraw' else ''}median of {ours['runs']})", flush=True)
            peers = list(args.peers) + (["ours:pycocotools"] if preset == "aodraw" and args.reference_backend else [])
            for peer in peers:
                other = measure(peer, gt, dt, preset, 1 if peer.startswith("ours") else args.repeats)
                if preset == "aodraw":
                    same = ("yes" if other["stats"] == ours["stats"] else "no") if peer.startswith("ours") else \
                        "n/a (plain evaluation: no ignore regions, no buckets)"
                else:
                    same = "yes" if other["stats"] == ours["stats"] else \
                        f"no (max |diff| {max(abs(a - b) for a, b in zip(other['stats'], ours['stats'])):.2e})"
                print(f"{name}: ours {ours['seconds']:.3f} | {peer} {other['seconds']:.3f} | ratio "
                      f"{other['seconds'] / ours['seconds']:.2f}x | identical: {same} "
                      f"[peak {other['peak_mb']:.0f} MB, {other['runs']} run(s)]", flush=True)


if __name__ == "__main__":
    main()
