#!/usr/bin/env python3
"""Segmentor inference speed: ``imagenet-s infer`` vs MMSegmentation's own test loop, side by side.

Both run the same model (a shipped recipe's architecture, randomly initialised, saved once as a checkpoint) on the
same generated ImageNet-S-style validation split (JPEGs of ImageNet's usual sizes with masks), with the protocol's
test pipeline (whole image, shorter side 256):
  cpu (default): ViT-S/16 with 919 + 1 classes (``vit-s16_sere-ssl_imagenet-s919``), 12 images, fp32.
  --gpu:         the same on 256 images; ours with bf16 autocast, channels-last, batch 16 and 8 loader workers.
MMSegmentation: ``Runner.test()`` with stock ``EncoderDecoder`` (logits bilinearly resized to the original size and
argmaxed, as ``ImageNetSSegmentor`` does for images under 1000^2 pixels; it keeps the full-size logits of every
image), batch 1 as the protocol evaluates, its ``IoUMetric`` (ignore 1000) and the official PNGs written by
``SaveLUSSPredictionsHook``. Ours: ``imagenet_s.mmseg.infer.run_inference`` writing the same PNGs. Each run is its
own process; time = building the model, loading the checkpoint and predicting every image (imports excluded).
Identical: every PNG equal (or the share of equal pixels). Prints
`<work>: ours <s> | mmseg-test <s> | ratio <peer/ours>x | identical: ...`.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

SETUPS = {"cpu": dict(images=12, batch_size=4, workers=1, amp="off", device="cpu"),
          "gpu": dict(images=256, batch_size=16, workers=8, amp="bf16", device="cuda")}
RECIPE = "vit-s16_sere-ssl_imagenet-s919"
SIZES = ((375, 500), (500, 375), (333, 500), (500, 333))


def prepare(folder: Path, n: int) -> tuple[Path, Path]:
    """The generated tree under ``folder/data``, the derived config and the checkpoint; returns (config, ckpt)."""
    import cv2
    import torch

    from evaluators.luss.masks import write_mask
    from imagenet_s.mmseg.launch import build_segmentor

    rng = np.random.default_rng(2026)
    base = folder / "data" / "ImageNetS919"
    for i in range(n):
        h, w = SIZES[i % len(SIZES)]
        wnid = f"n{1000000 + i % 4:08d}"
        img = rng.integers(0, 255, (h // 16 + 1, w // 16 + 1, 3)).repeat(16, 0).repeat(16, 1)[:h, :w]
        (base / "validation" / wnid).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(base / "validation" / wnid / f"ILSVRC2012_val_{i:08d}.JPEG"), img.astype(np.uint8))
        write_mask(base / "validation-segmentation" / wnid / f"ILSVRC2012_val_{i:08d}.png",
                   rng.integers(0, 920, (h // 32 + 1, w // 32 + 1)).repeat(32, 0).repeat(32, 1)[:h, :w])
    config = folder / "bench_config.py"
    config.write_text(f"_base_ = ['{REPO / 'imagenet_s' / 'configs' / (RECIPE + '.py')}']\n"
                      f"data_root = '{folder / 'data'}'\nmodel = dict(backbone_checkpoint=None)\n"
                      "val_dataloader = dict(dataset=dict(data_root=data_root), num_workers=2)\n"
                      "test_dataloader = val_dataloader\n")
    torch.manual_seed(0)
    model = build_segmentor(str(config))
    ckpt = folder / "model.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {}}, ckpt)
    return config, ckpt


def run_ours(folder: Path, setup: dict) -> dict:
    """``run_inference`` over the split; seconds and peak memory."""
    from imagenet_s.mmseg.infer import run_inference

    start = time.perf_counter()
    summary = run_inference(str(folder / "bench_config.py"), str(folder / "model.pth"), str(folder / "data"), 919,
                            "validation", str(folder / "ours"), batch_size=setup["batch_size"], amp=setup["amp"],
                            device=setup["device"], workers=setup["workers"], progress=False)
    return {"seconds": time.perf_counter() - start, "peak_memory_mb": summary["peak_memory_mb"]}


def run_mmseg(folder: Path, setup: dict) -> dict:
    """MMSegmentation's test loop (stock EncoderDecoder, batch 1, IoUMetric, PNG hook); seconds."""
    from imagenet_s.mmseg.launch import build_runner, load_config
    from mmglue.inference import choose_device, peak_memory_mb

    cfg = load_config(str(folder / "bench_config.py"), str(folder / "work"))
    for key in ("backbone_checkpoint", "checkpoint_layout", "checkpoint_key"):
        cfg.model.pop(key, None)
    cfg.model.type = "EncoderDecoder"
    cfg.model.test_cfg = dict(mode="whole")
    cfg.load_from = str(folder / "model.pth")
    cfg.test_evaluator = dict(type="IoUMetric", ignore_index=1000)
    cfg.custom_hooks = [dict(type="SaveLUSSPredictionsHook", out_dir=str(folder / "mmseg"))]
    cfg.default_hooks.logger.interval = 1000
    start = time.perf_counter()
    build_runner(cfg).test()
    return {"seconds": time.perf_counter() - start, "peak_memory_mb": peak_memory_mb(choose_device(setup["device"]))}


def compare(folder: Path) -> str:
    """``yes`` when every PNG of both sides is equal, else the share of equal pixels."""
    from evaluators.luss import MaskFolder

    ours, theirs = MaskFolder(folder / "ours"), MaskFolder(folder / "mmseg")
    if ours.names() != theirs.names():
        return f"no (different files: {len(ours.names())} vs {len(theirs.names())})"
    equal = total = 0
    for name in ours.names():
        a, b = ours.read(name), theirs.read(name)
        equal, total = equal + int((a == b).sum()), total + a.size
    return "yes" if equal == total else f"no ({100 * equal / total:.4f}% of pixels equal)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gpu", action="store_true", help="the GPU setup (needs CUDA)")
    parser.add_argument("--amp", choices=["off", "fp16", "bf16"],
                        help="our autocast mode instead of the setup's (off: fp32 like MMSegmentation, PNGs comparable "
                             "bit for bit)")
    parser.add_argument("--run", choices=["ours", "mmseg"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    setup = dict(SETUPS["gpu" if args.gpu else "cpu"], **({"amp": args.amp} if args.amp else {}))
    if args.run:
        result = (run_ours if args.run == "ours" else run_mmseg)(Path(args.folder), setup)
        print("RESULT " + json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare(folder, setup["images"])
        results = {}
        for side in ("mmseg", "ours"):
            cmd = [sys.executable, __file__, "--run", side, "--folder", str(folder), "--amp", setup["amp"]] + \
                (["--gpu"] if args.gpu else [])
            run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
            if run.returncode:
                print(run.stderr[-3000:], file=sys.stderr)
                return 1
            results[side] = json.loads(run.stdout.split("RESULT ", 1)[1].splitlines()[0])
        n, ours, peer = setup["images"], results["ours"]["seconds"], results["mmseg"]["seconds"]
        print(f"{RECIPE} on {n} images ({setup['device']}; ours batch {setup['batch_size']}, workers "
              f"{setup['workers']}, amp {setup['amp']}; mmseg batch 1)")
        print(f"images/s: ours {n / ours:.2f} | mmseg-test {n / peer:.2f}; peak memory (MB): ours "
              f"{results['ours']['peak_memory_mb']:.0f} | mmseg-test {results['mmseg']['peak_memory_mb']:.0f}")
        print(f"seg infer x{n}: ours {ours:.2f} s | mmseg-test {peer:.2f} s | ratio {peer / ours:.2f}x | "
              f"identical: {compare(folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
