#!/usr/bin/env python3
"""LUSS (ImageNet-S) evaluation speed: per-image time of evaluate and match, the fixed cost of matching,
peak memory, and the matching's identity with the munkres package.

Seeded synthetic ImageNet-S-like masks written as real PNG files: 752 images of about 375x500 with 50
classes (ImageNet-S-50 validation size) and 2,000 images with 919 classes. A ground truth holds one or
two object blobs, background and a thin ignore band along part of the object boundary; a prediction
holds shifted, rescaled blobs in a permuted label space, a wrong label in 25% of the images and a
second spurious blob in 30%. Evaluate runs on predictions already matched (``--match``).

The official evaluator needs CUDA, so it cannot run here; its figures measured on this kind of machine
with the GPU calls patched out (919 classes, 375x500 masks, 2 workers: evaluate 61 ms per image, about
120 ms per image per core; match 30 ms per image plus about 5 s fixed) are printed as labelled
reference figures. Times are medians over --repeats runs.
The PASS threshold sweep (`imagenet-s sweep`, 81 thresholds) runs on the 50-class images with a PASS-like attention
map beside each prediction and is compared with one `imagenet-s evaluate` of the same images (the issue's goal:
under 15x); its best row is checked against `evaluate` of the gated, matched PNGs. `--only-sweep` runs just that.
Prints `<work>: ours <median s> | <peer> <median s> | ratio <peer/ours>x | identical: yes/no`.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from evaluators.luss import MatchCounter, encode_mask  # noqa: E402
from evaluators.luss.folders import accumulate_evaluation, accumulate_matching  # noqa: E402
from evaluators.luss.matching import assign, munkres_version  # noqa: E402
from evaluators.luss.sweep import gate, sweep_folders, threshold_grid  # noqa: E402

OFFICIAL = "official (reference figure measured here, 919 classes, not run: needs CUDA)"
OFFICIAL_EVALUATE_2_WORKERS, OFFICIAL_EVALUATE_PER_CORE = 0.061, 0.120
OFFICIAL_MATCH_PER_IMAGE, OFFICIAL_MATCH_FIXED = 0.030, 5.0
SIZES = ((375, 500), (500, 375), (333, 500), (375, 500), (400, 500), (375, 499))


def blob(shape, rng, scale=1.0) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    h, w = shape
    center = (int(rng.integers(w // 5, 4 * w // 5)), int(rng.integers(h // 5, 4 * h // 5)))
    axes = (max(3, int(rng.integers(w // 12, w // 3) * scale)), max(3, int(rng.integers(h // 12, h // 3) * scale)))
    cv2.ellipse(mask, center, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    return mask.astype(bool)


def make_pair(seed: int, num_classes: int, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    shape = SIZES[seed % len(SIZES)]
    gt = np.zeros(shape, np.int64)
    pred = np.zeros(shape, np.int64)
    for _ in range(1 + (rng.random() < 0.3)):
        cls = int(rng.integers(1, num_classes + 1))
        region = blob(shape, rng)
        gt[region] = cls
        edge = region ^ cv2.erode(region.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
        gt[edge & (rng.random(shape) < 0.5)] = 1000
        shifted = np.roll(region, (int(rng.integers(-15, 16)), int(rng.integers(-15, 16))), axis=(0, 1))
        pred[shifted] = perm[cls] if rng.random() > 0.25 else int(rng.integers(1, num_classes + 1))
    if rng.random() < 0.3:
        pred[blob(shape, rng, 0.4)] = int(rng.integers(1, num_classes + 1))
    return gt, pred


def write_pair(args) -> None:
    root, index, num_classes, perm = args
    gt, pred = make_pair(index, num_classes, perm)
    name = f"n{index % 97:08d}/ILSVRC2012_val_{index:08d}.png"
    for folder, ids in (("gt", gt), ("pred", pred)):
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode_mask(ids))


def make_dataset(root: Path, num_images: int, num_classes: int, workers: int) -> dict[int, int]:
    """Write the masks; returns the true match {predicted label: class}."""
    perm = np.concatenate([[0], np.random.default_rng(num_classes).permutation(num_classes) + 1])
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write_pair, [(root, i, num_classes, perm) for i in range(num_images)], chunksize=64))
    return {int(p): c for c, p in enumerate(perm)}


def attention(seed: int, gt: np.ndarray) -> np.ndarray:
    """A PASS-like attention map: high on a blurred, shifted copy of the objects, low noise elsewhere."""
    rng = np.random.default_rng(seed + 10_000)
    fg = np.roll((gt > 0) & (gt < 1000), (int(rng.integers(-10, 11)), int(rng.integers(-10, 11))), axis=(0, 1))
    smooth = cv2.GaussianBlur(fg.astype(np.float32), (0, 0), 8)
    return np.clip(smooth * 0.9 + rng.normal(0.05, 0.08, gt.shape).astype(np.float32), 0, 1).astype(np.float32)


def write_attention(args) -> None:
    root, index, num_classes, perm = args
    gt, _pred = make_pair(index, num_classes, perm)
    name = f"n{index % 97:08d}/ILSVRC2012_val_{index:08d}"
    np.save(root / "pred" / f"{name}.npy", attention(index, gt))


def gate_with_match(args) -> None:
    src, dst, name, threshold, lookup = args
    from evaluators.luss.masks import MaskFolder
    pred = MaskFolder(src).read(name)
    gated = gate(pred, np.load(src / (name[:-4] + ".npy")), threshold)
    path = dst / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_mask(lookup[gated]))


def bench_sweep(root: Path, num_images: int, num_classes: int, repeats: int, workers: int) -> None:
    """81 thresholds of the PASS sweep against one `imagenet-s evaluate` of the same images (goal: < 15x)."""
    perm = np.concatenate([[0], np.random.default_rng(num_classes).permutation(num_classes) + 1])
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write_attention, [(root, i, num_classes, perm) for i in range(num_images)], chunksize=64))
    gt, pred = root / "gt", root / "pred"
    label = f"{num_classes} classes, {num_images:,} images ~375x500, {workers} workers"
    thresholds = threshold_grid()
    one, _ = median_time(repeats, lambda: accumulate_evaluation(gt, pred, num_classes, workers=workers,
                                                                progress=False))
    swept, result = median_time(repeats, lambda: sweep_folders(gt, pred, num_classes, thresholds, workers=workers,
                                                               progress=False))
    best = result.best_index
    t, match = result.thresholds[best], result.matches[best]
    lookup = np.zeros(num_classes + 1, np.int64)
    for k, v in match.items():
        lookup[k] = v
    gated = root / f"gated_{best}"
    names = [p.relative_to(gt).as_posix() for p in sorted(gt.rglob("*.png"))]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(gate_with_match, [(pred, gated, n, t, lookup) for n in names], chunksize=64))
    direct = accumulate_evaluation(gt, gated, num_classes, workers=workers, progress=False).compute()
    same = all(np.isclose(direct.metrics[k], result.results[best].metrics[k], rtol=1e-12, atol=1e-12, equal_nan=True)
               for k in direct.metrics)
    line(f"PASS sweep, {len(thresholds)} thresholds ({label})", swept, f"{len(thresholds)} x one imagenet-s evaluate "
         "(upstream runs a metric pass per threshold)", len(thresholds) * one,
         f"{'yes' if same else 'no'} (best t = {t:.2f} against evaluate of the gated, matched PNGs)")
    line(f"PASS sweep, {len(thresholds)} thresholds, against the issue's goal ({label})", swept,
         "15 x one imagenet-s evaluate (the goal: ratio > 1 meets it)", 15 * one, "n/a")
    print(f"  (sweep = {swept / one:.1f} x one evaluate of {one:.2f} s; goal < 15x; best mIoU "
          f"{result.results[best].metrics['mIoU']:.2f} at t = {t:.2f})")


def median_time(repeats: int, work) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def line(work: str, ours: float, peer: str, theirs: float, identical: str, unit: str = "s") -> None:
    print(f"{work}: ours {ours:.4f} {unit} | {peer} {theirs:.4f} {unit} | ratio {theirs / ours:.1f}x | "
          f"identical: {identical}", flush=True)


def bench_dataset(root: Path, num_images: int, num_classes: int, repeats: int, workers: int) -> None:
    truth = make_dataset(root, num_images, num_classes, workers)
    gt, pred = root / "gt", root / "pred"
    label = f"{num_classes} classes, {num_images:,} images ~375x500"

    seconds, counter = median_time(repeats, lambda: accumulate_matching(gt, pred, num_classes, workers=workers,
                                                                        progress=False))
    fixed, match = median_time(repeats, counter.match)
    per_image = seconds / num_images
    recovered = sum(match[p] == c for p, c in truth.items()) / len(truth)
    line(f"match counting per image ({label}, {workers} workers)", per_image, OFFICIAL, OFFICIAL_MATCH_PER_IMAGE,
         "n/a", "s/img")
    if num_classes == 919:
        line(f"match fixed cost: cost matrix + munkres ({num_classes} classes)", fixed, OFFICIAL,
             OFFICIAL_MATCH_FIXED, "n/a")
    else:
        print(f"  (match fixed cost, {num_classes} classes: {fixed:.4f} s)")
    print(f"  (fitted matching recovers {recovered:.1%} of the synthetic permutation)")

    seconds, evaluator = median_time(repeats, lambda: accumulate_evaluation(
        gt, pred, num_classes, match, workers=workers, progress=False))
    result = evaluator.compute()
    line(f"evaluate per image, all metrics ({label}, {workers} workers)", seconds / num_images, OFFICIAL,
         OFFICIAL_EVALUATE_2_WORKERS, "n/a", "s/img")
    seconds, _ = median_time(repeats, lambda: accumulate_evaluation(gt, pred, num_classes, match, workers=1,
                                                                    progress=False))
    line(f"evaluate per image per core ({label}, 1 worker)", seconds / num_images, OFFICIAL,
         OFFICIAL_EVALUATE_PER_CORE, "n/a", "s/img")
    print(f"  (mIoU {result.metrics['mIoU']:.2f}, mBIoU {result.metrics['mBIoU']:.2f}, "
          f"FMeasure {result.metrics['FMeasure']:.2f})")
    if num_classes >= 300:
        bench_assignment(counter, repeats)


def bench_assignment(counter: MatchCounter, repeats: int) -> None:
    """Our matching against the munkres package called directly, and scipy's solver (not the official one)."""
    import munkres
    from scipy.optimize import linear_sum_assignment

    cost = counter.cost_matrix()
    n = counter.num_classes
    ours_s, ours = median_time(repeats, lambda: assign(cost))
    direct_s, pairs = median_time(repeats, lambda: munkres.Munkres().compute(cost.tolist()))
    direct = {r + 1: c + 1 for r, c in pairs} | {0: 0}
    line(f"assignment {n}x{n} (munkres {munkres_version()})", ours_s, "munkres package directly", direct_s,
         "yes" if ours == direct else "no")
    scipy_s, (rows, cols) = median_time(repeats, lambda: linear_sum_assignment(cost))
    differ = sum(ours[r + 1] != c + 1 for r, c in zip(rows, cols))
    same_cost = np.isclose(cost[rows, cols].sum(), sum(cost[r - 1, c - 1] for r, c in ours.items() if r))
    line(f"assignment {n}x{n}", ours_s, "scipy linear_sum_assignment (not the official tie-breaking)", scipy_s,
         f"no: {differ} of {n} rows differ at {'the same' if same_cost else 'another'} total cost"
         if differ else "yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="100 + 200 images, one repeat (a smoke run)")
    parser.add_argument("--only-sweep", action="store_true", help="only the PASS threshold sweep (752 images, 50)")
    args = parser.parse_args()
    sizes = ((100, 50), (200, 919)) if args.quick else ((752, 50), (2000, 919))
    repeats = 1 if args.quick else args.repeats
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="bench_luss_") as tmp:
        for num_images, num_classes in sizes:
            root = Path(tmp) / f"im{num_classes}"
            if args.only_sweep:
                make_dataset(root, num_images, num_classes, args.workers)
            else:
                bench_dataset(root, num_images, num_classes, repeats, args.workers)
            if num_classes == 50:
                bench_sweep(root, num_images, num_classes, repeats, args.workers)
                if args.only_sweep:
                    break
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: main process {parent:.0f} MiB, largest worker {child:.0f} MiB")
    bench_uss(repeats, 100 if args.quick else 500)


# --- the USS protocol (evaluators.uss): per-image cost at 320x320 and the assignment's fixed cost ---

USS_GOAL = "goal of issue 20"
USS_GOAL_PER_IMAGE = 0.010
USS_SHAPE = (320, 320)


def make_uss_pair(seed: int, classes: int, clusters: int) -> tuple[np.ndarray, np.ndarray]:
    """A 320x320 crop: ground-truth class ids (uint8, 255 void) of a few blobs over a background class, and
    predicted clusters that mostly follow them through a fixed permutation (uint8 for K <= 256)."""
    rng = np.random.default_rng(seed)
    gt = np.full(USS_SHAPE, rng.integers(0, classes), np.uint8)
    for _ in range(int(rng.integers(2, 6))):
        gt[blob(USS_SHAPE, rng)] = rng.integers(0, classes)
    gt[rng.random(USS_SHAPE) < 0.03] = 255
    perm = np.random.default_rng(clusters).permutation(clusters)
    pred = perm[np.minimum(gt, classes - 1)]
    noise = blob(USS_SHAPE, rng, 0.5)
    pred[noise] = rng.integers(0, clusters)
    return gt, pred.astype(np.uint8 if clusters <= 256 else np.uint16)


def uss_update_all(pairs, classes: int, clusters: int):
    """Our evaluator over ``pairs`` (in memory)."""
    from evaluators.uss import USSEvaluator

    ev = USSEvaluator(classes, clusters)
    for gt, pred in pairs:
        ev.update(gt, pred, validate=False)
    return ev


def stego_update_all(pairs, classes: int, clusters: int):
    """STEGO's metric restated in NumPy (tests/uss/stego_reference.py) over ``pairs``; void as -1 as STEGO has it."""
    sys.path.insert(0, str(REPO / "tests" / "uss"))
    from stego_reference import StegoMetric

    metric = StegoMetric(classes, clusters - classes)
    for gt, pred in pairs:
        metric.update(pred.astype(np.int64), np.where(gt == 255, -1, gt.astype(np.int64)))
    return metric


def bench_uss_case(classes: int, clusters: int, dataset: str, repeats: int, num_images: int) -> None:
    """One (C, K): update per image per core and the assignment's fixed cost against the STEGO restatement; for
    K = C also the whole path from PNG files (1 worker) against the goal of 10 ms per image."""
    from functools import partial

    from evaluators.uss import accumulate_tree, preset

    pairs = [make_uss_pair(i, classes, clusters) for i in range(num_images)]
    label = f"C={classes} K={clusters}, {num_images} images 320x320"
    ours_s, ev = median_time(repeats, partial(uss_update_all, pairs, classes, clusters))
    stego_s, metric = median_time(repeats, partial(stego_update_all, pairs, classes, clusters))
    expected, got = metric.compute(), ev.compute()
    same = "yes" if (got.metrics["mIoU"], got.metrics["pixel_accuracy"]) == (expected["mIoU"],
                                                                            expected["Accuracy"]) else "no"
    line(f"USS update per image per core ({label})", ours_s / num_images, "STEGO metric restated in NumPy",
         stego_s / num_images, same, "s/img")
    fixed_s, _ = median_time(repeats, ev.compute)
    stego_fixed_s, _ = median_time(repeats, metric.compute)
    line(f"USS assignment fixed cost, pixel-hungarian ({label})", fixed_s, "STEGO metric restated in NumPy",
         stego_fixed_s, same)
    cooc_s, _ = median_time(repeats, partial(ev.compute, "image-cooccurrence", "official"))
    print(f"  (image-cooccurrence assignment, munkres, K={clusters}: {cooc_s:.4f} s; STEGO mIoU "
          f"{got.metrics['mIoU']:.2f})")
    if clusters != classes:
        return
    table = preset(dataset).table  # the files hold raw COCO-Stuff values: one fine value per class
    raw = np.full(256, 255, np.uint8)
    raw[:classes] = [int(np.flatnonzero(table == c)[0]) for c in range(classes)]
    with tempfile.TemporaryDirectory(prefix="bench_uss_") as tmp:
        for i, (gt, pred) in enumerate(pairs):
            for folder, ids in (("gt", raw[gt]), ("pred", pred)):
                path = Path(tmp) / folder / f"{i:012d}.png"
                path.parent.mkdir(exist_ok=True)
                cv2.imwrite(str(path), ids)
        tree_s, _ = median_time(repeats, partial(accumulate_tree, dataset, Path(tmp) / "gt", Path(tmp) / "pred",
                                                 clusters, workers=1, progress=False))
    line(f"USS evaluate per image per core, PNG files read ({dataset}, {label}, 1 worker)", tree_s / num_images,
         USS_GOAL, USS_GOAL_PER_IMAGE, "n/a", "s/img")


def bench_uss(repeats: int, num_images: int) -> None:
    """The USS protocol at C = K = 27, with 3 extra clusters, and at C = K = 171."""
    for classes, clusters, dataset in ((27, 27, "cocostuff27"), (27, 30, "cocostuff27"), (171, 171, "cocostuff171")):
        bench_uss_case(classes, clusters, dataset, repeats, num_images)


if __name__ == "__main__":
    main()
