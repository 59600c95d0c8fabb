#!/usr/bin/env python3
"""RAW conversion speed on a synthetic 6000x4000 14-bit DNG (+ its JPG): seconds per image and peak memory for
downsample (raw, srgb), slice (raw) and bayer, the stages of the RAW downsample (decode, orient, demosaic, resize,
save), and the scaling with workers.

The official scripts need torch and pytorch-debayer (not on PyPI); their figures measured on this kind of machine
are printed as labelled reference figures. When torch is importable, the official RAW downsample steps (reflection
pad + Debayer3x3 convolution + gather, crop, F.interpolate, division) are also run here side by side and the
outputs compared bit for bit. Times are medians over --repeats runs; peak memory is the maximum RSS of a fresh
process converting one image.
Prints `<work>: ours <median s> | <peer> <median s> | ratio <peer/ours>x | identical: yes/no`.

Scaling (medians of --repeats): 16 images with 1 worker (in this process) and 2 workers (a pool, one thread per
worker on 2 cores); the pool's start alone (a rerun that skips every image); the per-image cost alone and in a
worker beside another; the memory bandwidth one and two processes get. Expected speed-up with N workers on N cores
for 1000 images: 1000 x (cost alone) / (pool start + ceil(1000 / N) x (cost in a worker)). The RAW converters stream
50-150 MB arrays per image, so they scale as far as the memory bandwidth per core does: on this 2-core VM two
processes side by side move only 1.2-1.7x the bytes of one (the probe prints it), so an image in a worker beside
another takes 1.3-1.4x its time alone and 2 workers run about 1.3-1.5x as fast as one, not 2x; on a server whose
memory channels feed every core as one core is fed here, the expected figures hold (the bandwidth probe shows which
case a machine is in). The outputs of 1 and 2 workers are compared byte for byte.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from aodraw.convert.bayer import BayerJob, convert_bayer  # noqa: E402
from aodraw.convert.downsample import DownsampleJob, convert_downsample  # noqa: E402
from aodraw.convert.slice import SliceJob, convert_slice, slice_annotations  # noqa: E402
from aodraw.io import read_pair  # noqa: E402
from aodraw.raw import RAW_SCALE, border_offsets, demosaic_x4, orient, read_raw, resize_bilinear  # noqa: E402
from aodraw.synthetic_raw import write_pair  # noqa: E402
from plumbing.files import save_npy  # noqa: E402

OFFICIAL = "official (reference figure measured here, not run)"
OFFICIAL_S = {"downsample raw": 1.57, "downsample srgb": 0.18, "slice raw": 0.78}
OFFICIAL_STAGES = {"decode": 0.08, "demosaic": 1.30, "resize": 0.05, "save": 0.01}
OFFICIAL_PEAK_MB = {"downsample raw": 2300}


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def line(work: str, ours: float, peer: str, theirs: float | None, identical: str) -> str:
    ratio = f"{theirs / ours:.1f}x" if theirs else "n/a"
    theirs_s = f"{theirs:.3f} s" if theirs else "n/a"
    return f"{work}: ours {ours:.3f} s | {peer} {theirs_s} | ratio {ratio} | identical: {identical}"


def peak_mb(code: str) -> float:
    """Peak RSS (MB, VmHWM) of a fresh interpreter running ``code`` (imports included, as the official figure)."""
    probe = f"import sys; sys.path.insert(0, {str(REPO)!r})\n{code}\n" \
            "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1]) / 1024


def official_torch(root: Path, name: str):
    """The official downsample steps in torch (None when torch is missing), their time and torch's thread count
    (torch's last bits differ with 1 thread; with 2 or more they equal ours)."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None, None, 0
    raw, (height, width), orientation = read_pair(root, name)
    kernels = torch.tensor([[0, .25, 0], [.25, 0, .25], [0, .25, 0], [.25, 0, .25], [0, 0, 0], [.25, 0, .25],
                            [0, 0, 0], [.5, 0, .5], [0, 0, 0], [0, .5, 0], [0, 0, 0], [0, .5, 0]]).view(4, 1, 3, 3)
    index = torch.tensor([[4, 2], [3, 1], [0, 4], [4, 0], [1, 3], [2, 4]]).view(1, 3, 2, 2)

    def run():
        x = torch.from_numpy(raw.mosaic.astype(np.float32))[None, None]
        if orientation == 8:
            x = torch.flip(x, dims=[3]).permute(0, 1, 3, 2)
        c = torch.cat((F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernels), x), 1)
        rgb = torch.gather(c, 1, index.repeat(1, 1, x.shape[2] // 2, x.shape[3] // 2))
        hb, wb = (rgb.shape[2] - height) // 2, (rgb.shape[3] - width) // 2
        rgb = rgb[:, :, hb:rgb.shape[2] - hb, wb:rgb.shape[3] - wb]
        out = F.interpolate(rgb, size=(height // 3, width // 3), mode="bilinear") / ((2 ** 14 - 1) / 255.)
        return out.squeeze(0).numpy()

    run()
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start, torch.get_num_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--height", type=int, default=4000)
    parser.add_argument("--width", type=int, default=6000)
    parser.add_argument("--raw-border", type=int, nargs=2, default=(12, 24), metavar=("ROWS", "COLS"),
                        help="extra RAW pixels per side beyond the JPG (a Sony frame: 6048x4024 for 6000x4000)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_raw_"))
    try:
        run_all(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(tmp: Path, args) -> None:
    root = tmp / "images"
    root.mkdir()
    write_pair(root, "00000000", args.height, args.width, border=tuple(args.raw_border))
    name, reps = "00000000", args.repeats
    by, bx = args.raw_border
    print(f"synthetic {args.width + 2 * bx}x{args.height + 2 * by} 14-bit DNG + {args.width}x{args.height} JPG "
          f"(border-cropped as real RAWs are); medians of {reps} runs, one worker")

    raw, jpg_hw, orientation = read_pair(root, name)
    stages = {
        "decode": lambda: read_raw(root / f"{name}.ARW"),
        "orient": lambda: np.ascontiguousarray(orient(raw.mosaic, 8)),
        "demosaic": lambda: demosaic_x4(raw.mosaic),
    }
    rgb = demosaic_x4(raw.mosaic)
    out_hw, origin = (jpg_hw[0] // 3, jpg_hw[1] // 3), border_offsets(rgb.shape[:2], jpg_hw)
    small = resize_bilinear(rgb, out_hw, origin=origin, size=jpg_hw)
    stages["resize"] = lambda: resize_bilinear(rgb, out_hw, origin=origin, size=jpg_hw) * np.float32(0.25) / RAW_SCALE
    stages["save"] = lambda: save_npy(tmp / "stage.npy", small)
    for stage, fn in stages.items():
        peer = OFFICIAL_STAGES.get(stage)
        print(line(f"raw downsample stage {stage}", median_time(fn, reps), OFFICIAL, peer, "n/a"))

    jobs = {"downsample raw": lambda out: DownsampleJob(root, out, "raw")(name),
            "downsample srgb": lambda out: DownsampleJob(root, out, "srgb")(name),
            "bayer": lambda out: BayerJob(root, out)(name)}
    gt = slice_gt(args.width, args.height)
    sliced, windows = slice_annotations(gt)
    jobs["slice raw"] = lambda out: SliceJob(root, out, "raw", 1280, windows)(name)
    for work, job in jobs.items():
        outs = iter(tmp / f"{work.replace(' ', '_')}_{i}" for i in range(reps))
        t = median_time(lambda job=job, outs=outs: job(next(outs)), reps)
        ident = "n/a"
        if work == "downsample raw":
            ours_raw = np.load(tmp / "downsample_raw_0" / f"{name}.npy")
            ref, torch_s, threads = official_torch(root, name)
            if ref is not None:
                ident = "yes" if np.array_equal(ref, ours_raw) else "NO"
                print(line(f"raw downsample (official steps run here in torch, {threads} threads)", t, "torch",
                           torch_s, ident))
        extra = ""
        if work == "slice raw":
            written = sum(p.stat().st_size for p in (tmp / "slice_raw_0").iterdir()) / 2 ** 20
            extra = f" ({len(sliced['images'])} patches of {len(windows_all(args))} windows, {written:.0f} MB)"
        print(line(f"{work} per image{extra}", t, OFFICIAL, OFFICIAL_S.get(work), ident))
    for work, code in {
        "downsample raw": f"from aodraw.convert.downsample import DownsampleJob; from pathlib import Path; "
                          f"DownsampleJob(Path({str(root)!r}), Path({str(tmp / 'peak')!r}), 'raw')({name!r})",
        "bayer": f"from aodraw.convert.bayer import BayerJob; from pathlib import Path; "
                 f"BayerJob(Path({str(root)!r}), Path({str(tmp / 'peakb')!r}))({name!r})",
    }.items():
        mb = peak_mb(code)
        peer = OFFICIAL_PEAK_MB.get(work)
        print(f"{work} peak memory per worker: ours {mb:.0f} MB | {OFFICIAL} {peer or 'n/a'} MB")
    scaling(root, tmp, name, reps)


def windows_all(args) -> np.ndarray:
    from aodraw.convert.slice import sliding_windows

    return sliding_windows(args.width, args.height)


def slice_gt(width: int, height: int) -> dict:
    """Boxes spread so that most windows hold one (the official example writes 17 of 24)."""
    rng = np.random.default_rng(0)
    boxes = [[float(x), float(y), 120.0, 90.0] for x, y in zip(rng.uniform(0, width - 800, 17),
                                                               rng.uniform(0, height - 600, 17))]
    return {"images": [{"id": 0, "file_name": "00000000.JPG", "width": width, "height": height,
                        "tag": ["normal_light"]}],
            "annotations": [{"id": i, "image_id": 0, "category_id": 0, "bbox": b, "area": b[2] * b[3],
                             "iscrowd": 0} for i, b in enumerate(boxes)],
            "categories": [{"id": 0, "name": "person"}]}


def copy_bandwidth(_: int = 0) -> float:
    """Seconds to copy 1 GB in 50 MB arrays (the size of a RAW's arrays): the memory bandwidth one process gets."""
    a = np.ones(50_000_000, np.uint8)
    b = np.ones_like(a)
    start = time.perf_counter()
    for _ in range(20):
        np.copyto(b, a)
    return time.perf_counter() - start


def scaling(root: Path, tmp: Path, name: str, reps: int, copies: int = 16) -> None:
    """Wall time of converting ``copies`` images with 1 worker (in this process) and 2 (a pool, one per core),
    medians of ``reps``; the pool's start (workers started, job sent, every image skipped) measured alone; and
    the expected speed-up with N workers on N cores, from these costs."""
    from multiprocessing import get_context

    from plumbing.jobs import default_workers

    many = tmp / "many"
    many.mkdir()
    for i in range(copies):
        for ext in (".ARW", ".JPG"):
            shutil.copy(root / f"{name}{ext}", many / f"{i:08d}{ext}")
    cores = default_workers()
    one = copy_bandwidth()
    with get_context("forkserver").Pool(2) as pool:
        two = max(pool.map(copy_bandwidth, [0, 1]))
    print(f"memory: copying 1 GB takes {one:.3f} s in one process, {two:.3f} s in each of 2 side by side "
          f"(2 processes move {2 * one / two:.2f}x the bytes of one)")
    for label, convert in (("downsample raw", lambda out, w: convert_downsample(many, out, "raw", workers=w)),
                           ("bayer", lambda out, w: convert_bayer(many, out, workers=w)),
                           ("slice raw", lambda out, w: convert_slice_copies(many, out, copies, w))):
        folder = tmp / f"scale_{label.replace(' ', '_')}"
        times = {workers: converting(convert, folder, workers, reps) for workers in (1, 2)}
        start = median_time(lambda done=folder / "2_0", c=convert: c(done, 2), reps)  # all skipped: the pool alone
        per_image = times[1] / copies
        in_pool = (times[2] - start) / -(-copies // 2)  # one image in a worker with another beside it
        print(f"{label} scaling, {copies} images, {cores} cores: 1 worker {times[1]:.2f} s | 2 workers "
              f"{times[2]:.2f} s | speed-up {times[1] / times[2]:.2f}x | per image: {per_image:.3f} s alone, "
              f"{in_pool:.3f} s in a worker beside another | pool start {start:.2f} s")
        print(f"{label} x{copies}, 2 workers against 1: ours {times[2]:.3f} s | 1 worker {times[1]:.3f} s | ratio "
              f"{times[1] / times[2]:.2f}x | identical: {same_outputs(folder / '1_0', folder / '2_0')}")
        expected = ", ".join(f"{n} cores {per_image * 1000 / (start + -(-1000 // n) * in_pool):.1f}x"
                             for n in (4, 8, 16, 32))
        print(f"{label} expected speed-up for 1000 images, N workers on N cores, if each core gets the memory "
              f"bandwidth a core gets here: {expected}")


def same_outputs(a: Path, b: Path) -> str:
    """``yes`` when the folders ``a`` and ``b`` (and their sibling ``.json`` files, the slicer's annotations) hold the
    same files with the same bytes."""
    def files(folder: Path) -> dict:
        found = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file()}
        sibling = folder.parent / f"{folder.name}.json"
        return {**found, **({"<annotations>": sibling} if sibling.exists() else {})}

    left, right = files(a), files(b)
    if left.keys() != right.keys():
        return f"no ({len(left)} vs {len(right)} files)"
    differ = [name for name in left if left[name].read_bytes() != right[name].read_bytes()]
    return "yes" if not differ else f"no ({len(differ)} files differ, e.g. {differ[0]})"


def converting(convert, folder: Path, workers: int, reps: int) -> float:
    """Median seconds of ``convert(out, workers)`` into a fresh ``folder/WORKERS_RUN`` each run."""
    outs = iter(folder / f"{workers}_{run}" for run in range(reps))
    return median_time(lambda: convert(next(outs), workers), reps)


def convert_slice_copies(root: Path, out: Path, copies: int, workers: int):
    """``convert_slice`` over the ``copies`` images of ``root``."""
    gt = slice_gt(6000, 4000)
    gt["images"] = [dict(gt["images"][0], id=i, file_name=f"{i:08d}.JPG") for i in range(copies)]
    gt["annotations"] = [dict(a, id=i * 100 + a["id"], image_id=i) for i in range(copies) for a in gt["annotations"]]
    ann = root.parent / "slice_gt.json"
    ann.write_bytes(orjson.dumps(gt))
    return convert_slice(root, ann, out, out.parent / f"{out.name}.json", workers=workers)


if __name__ == "__main__":
    main()
