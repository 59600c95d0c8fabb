#!/usr/bin/env python3
"""Detector inference speed: ``aodraw infer`` vs MMDetection's own ``tools/test.py`` loop, side by side.

Both run the same config, the same randomly initialised checkpoint (saved once; class scores spread out so that
there are detections to compare) and the same generated RAW images (downsampled-style float32 3 x H x W ``.npy``):
  cpu (default): Faster R-CNN R18-FPN (``faster-rcnn_r18_fpn_1x_aodraw-raw``), 640 x 384 images, fp32.
  --gpu:         Cascade R-CNN ConvNeXt-T (``cascade-rcnn_convnext-t_fpn_1x_aodraw-raw``), 2048 x 1024 images;
                 ours with bf16 autocast, channels-last and batches, MMDetection fp32 as its config runs it.
MMDetection: ``Runner.test()`` with the config's test loader (batch 1, its workers), ``AODRawMetric`` in
format-only mode writing the COCO results. Ours: ``aodraw.mmdet.infer.run_inference``. Each run is its own process;
time = building the model, loading the checkpoint and running every image (interpreter and imports excluded);
medians over --repeats runs, peak memory (CUDA allocated, else process RSS). Identical: same detections (image,
category, box within 1e-3 px, score within 1e-5); with AMP >= 95% of the detections scoring >= 0.3 on each side have
a partner of the same category with IoU >= 0.5 on the other (random weights give saturated, tied scores, and AMP
changes which of them survive: on a 2048 x 1024 ConvNeXt-T check on the CPU 87% matched; --amp off is exact).
Prints `<work>: ours <median s> | mmdet-test <median s> | ratio <peer/ours>x | identical: yes/no`.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SETUPS = {
    "cpu": dict(recipe="faster-rcnn_r18_fpn_1x_aodraw-raw", width=640, height=384, images=24, batch_size=2,
                workers=1, amp="off", device="cpu"),
    "gpu": dict(recipe="cascade-rcnn_convnext-t_fpn_1x_aodraw-raw", width=2048, height=1024, images=96,
                batch_size=4, workers=8, amp="bf16", device="cuda"),
}


def prepare(setup: dict, folder: Path) -> tuple[str, str, str]:
    """Generated images and annotation file, the derived config and the checkpoint; returns their paths."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    from aodraw.mmdet.launch import load_config, without_pretrained_weights

    cfg = load_config(setup["recipe"])
    num_classes = _num_classes(cfg.model)
    rng = np.random.default_rng(2026)
    (folder / "images").mkdir()
    images, anns = [], []
    h, w = setup["height"], setup["width"]
    for i in range(setup["images"]):
        img = rng.integers(20, 60, (3, h // 8, w // 8)).repeat(8, 1).repeat(8, 2).astype(np.float32)
        for _ in range(6):  # bright rectangles
            bw, bh = int(rng.integers(w // 16, w // 4)), int(rng.integers(h // 16, h // 4))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            img[:, y:y + bh, x:x + bw] = rng.integers(120, 250, (3, 1, 1))
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": int(rng.integers(0, num_classes)),
                         "bbox": [x, y, bw, bh], "area": bw * bh, "iscrowd": 0})
        np.save(folder / "images" / f"{i:06d}.npy", img)
        images.append({"id": i, "file_name": f"{i:06d}.JPG", "height": h, "width": w, "tag": ["normal_light"]})
    ann = folder / "ann.json"
    ann.write_text(json.dumps({"images": images, "annotations": anns,
                               "categories": [{"id": c, "name": f"class{c}"} for c in range(num_classes)]}))
    for step in cfg.test_dataloader.dataset.pipeline:
        if step.type == "Resize":
            step.scale = (w, h)
    cfg.test_dataloader.dataset.update(data_root=str(folder) + "/", ann_file=str(ann), data_prefix=dict(img="images/"))
    cfg.test_evaluator.update(ann_file=str(ann), format_only=True, outfile_prefix=str(folder / "mmdet"))
    without_pretrained_weights(cfg.model)
    config = folder / "config.py"
    cfg.dump(str(config))

    init_default_scope("mmdet")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)  # PyTorch's default initialisation
    for name, module in model.named_modules():
        if name.endswith("fc_cls"):
            torch.nn.init.normal_(module.weight, std=0.5)
    checkpoint = folder / "random.pth"
    torch.save({"state_dict": model.state_dict(),
                "meta": {"dataset_meta": {"classes": tuple(f"class{c}" for c in range(num_classes))}}}, checkpoint)
    return str(config), str(checkpoint), str(ann)


def _num_classes(model_cfg) -> int:
    heads = model_cfg.get("roi_head", {}).get("bbox_head") or model_cfg.get("bbox_head")
    return (heads[0] if isinstance(heads, list) else heads)["num_classes"]


def run_side(side: str, setup: dict, config: str, checkpoint: str, ann: str, out: str) -> dict:
    """One timed run inside this (fresh) process."""
    import torch

    if side == "ours":
        from aodraw.mmdet.infer import run_inference

        start = time.perf_counter()
        run_inference(config, checkpoint, out, ann=ann, batch_size=setup["batch_size"], amp=setup["amp"],
                      device=setup["device"], workers=setup["workers"], progress=False)
    else:
        from mmengine.config import Config

        from aodraw.mmdet.launch import build_runner

        cfg = Config.fromfile(config)
        cfg.work_dir, cfg.load_from = str(Path(out).parent / "work"), checkpoint
        cfg.test_evaluator.outfile_prefix = str(Path(out).with_suffix(""))
        cfg.log_level = "WARNING"
        start = time.perf_counter()
        build_runner(cfg).test()
        Path(out).with_suffix(".bbox.json").rename(out)
    seconds = time.perf_counter() - start
    if setup["device"] == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2 ** 20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak}


def _sorted(path: str) -> list[dict]:
    return sorted(json.loads(Path(path).read_text()), key=lambda d: (d["image_id"], d["category_id"], -d["score"]))


def _iou(a, b) -> float:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter + 1e-9)


def identical(ours: list[dict], peer: list[dict], amp: bool) -> tuple[bool, str]:
    """Exact (fp32 both sides): the same detections, boxes within 1e-3 px, scores within 1e-5. With AMP: at least
    95% of each side's detections scoring >= 0.3 have a partner (same image and category, IoU >= 0.5) on the other;
    the match rates are returned as a note."""
    if not amp:
        same = len(ours) == len(peer) and all(
            (a["image_id"], a["category_id"]) == (b["image_id"], b["category_id"])
            and np.allclose(a["bbox"], b["bbox"], atol=1e-3) and abs(a["score"] - b["score"]) <= 1e-5
            for a, b in zip(ours, peer))
        return same, ""

    def matched(xs, ys) -> float:
        hits = [any(y["image_id"] == x["image_id"] and y["category_id"] == x["category_id"]
                    and _iou(x["bbox"], y["bbox"]) >= 0.5 for y in ys) for x in xs if x["score"] >= 0.3]
        return sum(hits) / max(len(hits), 1)

    rates = matched(ours, peer), matched(peer, ours)
    return min(rates) >= 0.95, f" (matched at IoU 0.5: ours {rates[0]:.0%}, mmdet-test {rates[1]:.0%})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gpu", action="store_true", help="Cascade R-CNN ConvNeXt-T at 2048x1024 with AMP on CUDA")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, help="number of generated images (default: per setup)")
    parser.add_argument("--amp", choices=["bf16", "fp16", "off"], help="our precision (default: bf16 with --gpu)")
    parser.add_argument("--side", choices=["ours", "mmdet-test"], help=argparse.SUPPRESS)
    parser.add_argument("--paths", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup = dict(SETUPS["gpu" if args.gpu else "cpu"])
    if args.images:
        setup["images"] = args.images
    if args.amp:
        setup["amp"] = args.amp
    if args.side:  # a worker process
        print(json.dumps(run_side(args.side, setup, *args.paths)))
        return

    with tempfile.TemporaryDirectory(prefix="bench_infer_") as tmp:
        folder = Path(tmp)
        config, checkpoint, ann = prepare(setup, folder)
        runs = {"ours": [], "mmdet-test": []}
        for r in range(args.repeats):
            for side in runs:
                out = folder / f"{side}_{r}" / "results.json"
                out.parent.mkdir()
                cmd = [sys.executable, __file__, "--side", side, "--paths", config, checkpoint, ann, str(out)]
                cmd += ["--gpu"] * args.gpu + (["--images", str(args.images)] if args.images else [])
                cmd += ["--amp", setup["amp"]]
                proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
                if proc.returncode:
                    sys.exit(f"{side} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
                runs[side].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        same, note = identical(_sorted(folder / "ours_0" / "results.json"),
                               _sorted(folder / "mmdet-test_0" / "results.json"), setup["amp"] != "off")
        ours, peer = (statistics.median(x["seconds"] for x in runs[s]) for s in ("ours", "mmdet-test"))
        n, size = setup["images"], f"{setup['width']}x{setup['height']}"
        print(f"{setup['recipe']} on {n} images of {size} ({setup['device']}; ours batch {setup['batch_size']}, "
              f"amp {setup['amp']}, {setup['workers']} workers; mmdet-test as configured)")
        print(f"images/s: ours {n / ours:.2f} | mmdet-test {n / peer:.2f}; peak memory (MB): ours "
              f"{max(x['peak_mb'] for x in runs['ours']):.0f} | mmdet-test "
              f"{max(x['peak_mb'] for x in runs['mmdet-test']):.0f}")
        print(f"infer {size} x{n}: ours {ours:.2f} s | mmdet-test {peer:.2f} s | ratio {peer / ours:.2f}x | "
              f"identical: {'yes' if same else 'no'}{note}")


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
