#!/usr/bin/env python3
"""Real-time track latency: each shipped real-time recipe (RTMDet-tiny, YOLOX-tiny; sRGB, RAW, packed Bayer) at
batch 1 on a 640 px input, PyTorch eager (``aodraw.mmdet.latency.measure_latency``, the code of ``aodraw infer
--latency``) against the same network exported to ONNX and run by onnxruntime on the CPU (``check_onnx``).

Inputs: one generated AODRaw-sized downsampled image per input kind (2000 x 1332: a JPG, a 3 x H x W float32 array,
a uint16 4 x 666 x 1000 Bayer pack with its sidecar) through the recipe's test pipeline (resize to fit 640, pad to
640 x 640). Models are randomly initialised (the architecture sets the latency), then calibrated on the image
(``calibrate``: batch-norm statistics and spread class scores) so that NMS has candidates, as on a real image, and
the detections can be compared. Latency covers the data preprocessor, the network, box decoding and NMS; file
reading and the pipeline are excluded. Identical: onnxruntime's detections equal PyTorch's (boxes within 0.05 px,
scores within 1e-4).
Prints `<recipe> batch-1 latency: ours <p50 ms> ms | onnxruntime <p50 ms> ms | ratio <ort/ours>x | identical: yes/no`
and, with --write, records the measurements in aodraw/configs/latency.json (what `aodraw recipes list` shows).

    python tools/benchmarks/bench_realtime.py [--device cpu|cuda] [--threads N] [--runs 30] [--write]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

HEIGHT, WIDTH = 1332, 2000  # an AODRaw image downsampled by 3 (even, so its Bayer pack is 666 x 1000)


def write_inputs(folder: Path) -> dict[str, Path]:
    """One generated image per input kind: {srgb: JPG, raw: npy, bayer: pack npy (+ sidecar)}."""
    import cv2

    from aodraw.synthetic_raw import scene
    from plumbing.files import write_json

    rgb = scene(HEIGHT, WIDTH, seed=1)
    cv2.imwrite(str(folder / "image.JPG"), (rgb[..., ::-1] ** (1 / 2.2) * 255).astype(np.uint8))
    np.save(folder / "image.npy", (rgb.transpose(2, 0, 1) * 255).astype(np.float32))
    bayer = folder / "bayer"
    bayer.mkdir()
    planes = rgb[::2, ::2][..., [0, 1, 2, 1]].transpose(2, 0, 1) * (16383 - 512) + 512
    np.save(bayer / "image.npy", planes.astype(np.uint16))
    write_json(bayer / "image.json", {"black_level": [512] * 4, "white_level": 16383})
    return {"srgb": folder / "image.JPG", "raw": folder / "image.npy", "bayer": bayer / "image.npy"}


def calibrate(model, inputs, std: float = 0.05) -> None:
    """Make a randomly initialised detector behave like a trained one on ``inputs`` (a preprocessed batch): batch
    norm statistics recomputed on it (at init they are 0/1 and the activations vanish to ~1e-5), and the head's
    classification weights drawn (seeded) so that scores spread: NMS then sees candidates, as on a real image, and
    the detections can be compared with onnxruntime's."""
    import torch

    torch.manual_seed(0)
    classes = model.bbox_head.num_classes
    for module in model.bbox_head.modules():
        if isinstance(module, torch.nn.Conv2d) and module.out_channels == classes:
            torch.nn.init.normal_(module.weight, std=std)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the calibration passes
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model._forward(inputs)
    model.eval()


def measure(recipe, path: Path, device: str, runs: int, folder: Path) -> dict:
    """Latency of one recipe in PyTorch and (on the CPU) onnxruntime, and whether their detections agree."""
    import torch
    from mmengine.dataset import Compose, pseudo_collate
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import init_default_scope

    from aodraw.mmdet.infer_data import inference_pipeline
    from aodraw.mmdet.latency import check_onnx, export_onnx, measure_latency
    from aodraw.mmdet.launch import build_detector, load_config

    cfg = load_config(str(recipe.config))
    init_default_scope("mmdet")
    model = build_detector(cfg)
    model.init_weights()  # the heads' score priors (no pretrained weights: build_detector drops them)
    model = revert_sync_batchnorm(model).eval().to(device)
    sample = Compose(inference_pipeline(cfg))({"img_path": str(path), "img_id": 0})
    calibrate(model, model.data_preprocessor(pseudo_collate([sample]), False)["inputs"])
    result = {"latency": measure_latency(model, [sample], warmup=max(3, runs // 5), runs=runs)}
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return result
    model.to("cpu")
    onnx = export_onnx(model, sample, folder / f"{recipe.name}.onnx")
    result["onnx"] = check_onnx(model, [sample], onnx, warmup=max(3, runs // 5), runs=runs)
    torch.cuda.empty_cache()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: reproducible on a "
                                                               "shared machine)")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--only", nargs="+", help="recipe names (default: every real-time recipe)")
    parser.add_argument("--write", action="store_true", help="record the results in aodraw/configs/latency.json")
    args = parser.parse_args()

    import torch
    from mmengine.logging import MMLogger

    from aodraw.recipes import LATENCY_REPORT, REALTIME, load_latencies
    from plumbing.files import write_json

    MMLogger.get_instance("bench-realtime", log_level="ERROR")  # the current logger: no init chatter
    torch.set_num_threads(args.threads)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor()) if Path("/proc/cpuinfo").is_file() else platform.processor()
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else None
    report = load_latencies()
    with tempfile.TemporaryDirectory() as tmp:
        inputs = write_inputs(Path(tmp))
        for recipe in REALTIME:
            if args.only and recipe.name not in args.only:
                continue
            got = measure(recipe, inputs[recipe.input], args.device, args.runs, Path(tmp))
            lat, onnx = got["latency"], got.get("onnx")
            if onnx:
                same = "yes" if onnx["match"] else "no"
                print(f"{recipe.name} batch-1 latency: ours {lat['p50_ms']:.2f} ms | onnxruntime {onnx['p50_ms']:.2f} "
                      f"ms | ratio {onnx['p50_ms'] / lat['p50_ms']:.2f}x | identical: {same} ({onnx['matched']}/"
                      f"{onnx['compared']} detections; CPU time {lat['cpu_p50_ms']:.1f} ms)", flush=True)
            else:
                print(f"{recipe.name} batch-1 latency: p50 {lat['p50_ms']:.2f} ms, p95 {lat['p95_ms']:.2f} ms, "
                      f"{lat['fps']:.1f} FPS", flush=True)
            entry = {"device": args.device, "hardware": gpu or cpu, "threads": lat["threads"],
                     "input_shape": lat["input_shape"], "p50_ms": lat["p50_ms"], "p95_ms": lat["p95_ms"],
                     "cpu_p50_ms": lat["cpu_p50_ms"], "fps": lat["fps"], "load_average": os.getloadavg()[0],
                     "runs": lat["runs"], "measured": datetime.date.today().isoformat(),
                     "tool": "tools/benchmarks/bench_realtime.py"}
            if onnx:
                entry.update(onnxruntime_p50_ms=onnx["p50_ms"], onnxruntime_p95_ms=onnx["p95_ms"],
                             onnx_match=onnx["match"])
            key = recipe.name if args.device == "cpu" else f"{recipe.name}@{args.device}"
            report[key] = entry
    if args.write:
        write_json(LATENCY_REPORT, dict(sorted(report.items())))
        print(f"wrote {LATENCY_REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
