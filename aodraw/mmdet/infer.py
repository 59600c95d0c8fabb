"""``aodraw infer``: run a trained detector over images fast and write COCO results that ``aodraw evaluate`` scores.

Images are prepared by the config's test pipeline in worker processes (a prefetching torch ``DataLoader``, pinned
memory on CUDA), batched through the model's data preprocessor and run under ``torch.inference_mode``, channels-last
on CUDA. Mixed precision (``torch.autocast``) covers the feature extraction (backbone and neck, nearly all of the
compute); the heads run in float32 on float32 features, so boxes keep full precision (bf16 has 8 significant bits:
+-8 px at x = 2048) and mmcv's RoIAlign and NMS need no half-precision kernels. With ``slices`` every
full-resolution image is cut into the official sliding windows, and the windows' boxes are shifted back and merged
with class-wise NMS (``aodraw.convert.merge.nms``).
"""
from __future__ import annotations

import os
import os.path as osp
import time
from pathlib import Path

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import aodraw.mmdet  # noqa: F401  (registers the plug-in; allow-lists MMEngine checkpoint globals)
from aodraw.convert.merge import classwise_nms
from aodraw.mmdet.infer_data import (
    InferenceDataset,
    category_ids,
    config_ann_file,
    config_image_root,
    images_from_ann,
    images_from_folder,
    inference_pipeline,
    parse_slices,
)
from aodraw.mmdet.launch import build_detector, load_config
from aodraw.mmdet.metric import coco_results
from aodraw.mmdet.rfnext import rfsearch_hook_cfg
from mmglue.inference import (
    AMP_NAMES,
    MAX_DEFAULT_WORKERS,
    choose_amp,
    choose_device,
    speed_fields,
    speed_rows,
)
from plumbing.errors import BadInputError, MissingInputError
from plumbing.files import write_json
from plumbing.tables import format_table


def autocast_features(model, dtype: torch.dtype) -> None:
    """Run the detector's ``extract_feat`` (backbone and neck) under ``torch.autocast`` and hand float32 features
    to its heads, in place."""
    extract = model.extract_feat
    device_type = next(model.parameters()).device.type

    def extract_feat(inputs):
        with torch.autocast(device_type, dtype=dtype):
            feats = extract(inputs)
        return tuple(f.float() for f in feats)

    model.extract_feat = extract_feat


def load_model(cfg, checkpoint: str, device: torch.device):
    """The config's detector (RF-Next structure applied) with the checkpoint's weights, in eval mode on ``device``;
    and the class names the checkpoint or the config records (``None`` if neither does)."""
    if not Path(checkpoint).is_file():
        raise BadInputError(f"{checkpoint}: checkpoint file not found")
    hook_cfg = rfsearch_hook_cfg(cfg)
    structure = (hook_cfg or {}).get("rfstructure_file")
    if hook_cfg is not None and hook_cfg.get("mode") != "search" and not osp.isfile(structure or ""):
        raise MissingInputError(f"{structure}: the RF-Next structure file of the config is missing (run the search "
                                "recipe first)")
    model = build_detector(cfg)
    try:
        ckpt = load_checkpoint(model, checkpoint, map_location="cpu", strict=True, logger="silent")
    except RuntimeError as exc:
        raise BadInputError(f"{checkpoint}: does not fit the config's model ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # noqa: BLE001 -- unpickling failures have many types
        raise BadInputError(f"{checkpoint}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    classes = ((ckpt.get("meta") or {}).get("dataset_meta") or {}).get("classes")
    classes = classes or (cfg.test_dataloader.dataset.get("metainfo") or {}).get("classes")
    model.to(device).eval()
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
        model.data_preprocessor._non_blocking = True  # copies from the pinned batches overlap (MMEngine's flag)
    return model, list(classes) if classes else None


def merge_windows(preds: list, offsets: list, size: tuple[int, int], iou_thr: float):
    """Window predictions (x1 y1 x2 y2 boxes, scores, labels) shifted into the image, clipped to it, and merged by
    class-wise NMS across windows."""
    height, width = size
    boxes = np.concatenate([p[0] + np.array([x, y, x, y], np.float32) for p, (x, y) in zip(preds, offsets)])
    boxes = np.clip(boxes, 0, [width, height, width, height])
    scores = np.concatenate([p[1] for p in preds])
    labels = np.concatenate([p[2] for p in preds])
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    keep = classwise_nms(xywh, scores, labels, iou_thr)
    keep = keep[np.argsort(-scores[keep], kind="stable")]
    return boxes[keep], scores[keep], labels[keep]


def _batches(samples: list, size: int):
    for start in range(0, len(samples), size):
        yield samples[start:start + size]


def predict(model, loader, batch_size: int, iou_thr: float, progress: bool = True):
    """Run the model over the loader's images in batches of ``batch_size`` samples (images, or windows).

    Returns per image (boxes x1 y1 x2 y2, scores, labels, (height, width)) in loader order, and the seconds of each
    model batch and of each image (its batch's model time shared out; loading overlaps in the workers)."""
    from tqdm import tqdm

    device = next(model.parameters()).device
    results, batch_times, image_times = [], [], []
    with torch.inference_mode(), tqdm(total=len(loader.dataset), unit="img", desc="infer",
                                      disable=None if progress else True) as bar:
        for items in loader:
            for item in items:
                if "error" in item:
                    raise BadInputError(item["error"])
            start = time.perf_counter()
            preds = []
            for chunk in _batches([s for item in items for s in item["samples"]], batch_size):
                t = time.perf_counter()
                data = model.data_preprocessor(pseudo_collate(chunk), False)
                if device.type == "cuda":
                    data["inputs"] = data["inputs"].contiguous(memory_format=torch.channels_last)
                outputs = model(**data, mode="predict")
                preds += [(o.pred_instances.bboxes.float().cpu().numpy(), o.pred_instances.scores.float().cpu().numpy(),
                           o.pred_instances.labels.cpu().numpy()) for o in outputs]
                batch_times.append(time.perf_counter() - t)
            for item in items:
                mine, preds = preds[:len(item["samples"])], preds[len(item["samples"]):]
                if loader.dataset.slices is None:
                    results.append((*mine[0], item["size"]))
                else:
                    results.append((*merge_windows(mine, item["offsets"], item["size"], iou_thr), item["size"]))
            image_times += [(time.perf_counter() - start) / len(items)] * len(items)
            bar.update(len(items))
    return results, batch_times, image_times


def run_inference(config: str, checkpoint: str, out: str, images: str | None = None, ann: str | None = None,
                  batch_size: int = 1, amp: str | None = None, slices: str | None = None, device: str | None = None,
                  workers: int | None = None, nms_iou: float = 0.6, report: str | None = None,
                  progress: bool = True, latency: dict | None = None, export: str | None = None) -> dict:
    """Detect objects in every image of ``ann`` and/or the folder ``images`` and write COCO results to ``out``.

    Image ids: those of ``ann``; with only a folder, the position in its sorted file list, written with the file
    names, sizes and categories to ``out`` with suffix ``.images.json``. Category ids: the annotation file's (the
    given one, else the config's test annotation file if present), matched to the model's classes by name; else the
    class index. Returns the speed report (also written to ``report`` if given).

    ``latency`` ({warmup, runs}): also time the model alone at batch 1 (``aodraw.mmdet.latency``; the report's
    ``latency`` block). ``export``: a path: export the network there as ONNX and check onnxruntime's detections
    against PyTorch's (the report's ``onnx`` block)."""
    if not images and not ann:
        raise BadInputError("give --images DIR, --ann ANN.json or both")
    if Path(out).is_dir():
        raise BadInputError(f"--out {out}: is a folder; give a file name such as results.json")
    if batch_size < 1:
        raise BadInputError(f"--batch-size: must be >= 1, got {batch_size}")
    if (latency or export) and (slices or batch_size != 1):
        raise BadInputError("--latency/--export: batch size 1 on whole images only (no --slices, --batch-size 1)")
    window = parse_slices(slices) if slices else None
    dev = choose_device(device)
    amp_dtype = choose_amp(amp, dev)
    try:
        cfg = load_config(config)
    except FileNotFoundError as exc:
        raise BadInputError(str(exc)) from None
    init_default_scope(cfg.get("default_scope", "mmdet"))
    pipeline = inference_pipeline(cfg)
    if ann:
        image_list = images_from_ann(ann, images or config_image_root(cfg), pipeline[0])
    else:
        image_list = images_from_folder(images, pipeline[0])
    model, classes = load_model(cfg, checkpoint, dev)
    cat_ids, categories = category_ids(classes, ann or config_ann_file(cfg))

    workers = min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS) if workers is None else workers
    loader = torch.utils.data.DataLoader(
        InferenceDataset(image_list, pipeline, window), batch_size=1 if window else batch_size, shuffle=False,
        num_workers=workers, collate_fn=list, pin_memory=dev.type == "cuda", persistent_workers=False)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    if amp_dtype is not None:
        autocast_features(model, amp_dtype)
    start = time.perf_counter()
    results, batch_times, image_times = predict(model, loader, batch_size, nms_iou, progress)
    seconds = time.perf_counter() - start
    detections = []
    try:
        for image, (boxes, scores, labels, _) in zip(image_list, results):
            detections += coco_results(image.id, boxes, scores, labels, cat_ids)
    except BadInputError as exc:
        raise BadInputError(f"{checkpoint}: {exc}") from None

    write_json(out, detections, indent=False)
    if not ann:
        write_json(Path(out).with_suffix(".images.json"), {
            "images": [{"id": im.id, "file_name": im.file_name, "height": int(r[3][0]), "width": int(r[3][1])}
                       for im, r in zip(image_list, results)], "categories": categories}, indent=False)
    summary = {"images": len(image_list), "detections": len(detections), "seconds": seconds,
               "images_per_s": len(image_list) / seconds, "batch_size": batch_size,
               **speed_fields(batch_times, image_times, dev), "device": dev.type,
               "amp": AMP_NAMES.get(amp_dtype, "off"), "workers": workers, "slices": slices}
    if latency or export:
        summary.update(_latency_and_export(model, loader.dataset, latency, export))
    if report:
        write_json(report, summary)
    return summary


def _latency_and_export(model, dataset, latency: dict | None, export: str | None) -> dict:
    """The report's ``latency`` and ``onnx`` blocks (see ``run_inference``), on the dataset's first images (at most
    ``runs``; prepared here, outside the timing)."""
    from aodraw.mmdet.latency import check_onnx, export_onnx, measure_latency

    count = min(len(dataset), (latency or {}).get("runs", 10))
    samples = []
    for i in range(count):
        item = dataset[i]
        if "error" in item:
            raise BadInputError(item["error"])
        samples.append(item["samples"][0])
    blocks = {}
    if latency:
        blocks["latency"] = measure_latency(model, samples, latency.get("warmup", 10), latency.get("runs", 50))
    if export:
        if next(model.parameters()).device.type != "cpu":
            model.to("cpu")
        blocks["onnx"] = check_onnx(model, samples, export_onnx(model, samples[0], export))
    return blocks


def report_table(summary: dict) -> str:
    """The speed report as a small text table."""
    rows = speed_rows(summary, f"{summary['images']} images in {summary['seconds']:.2f} s")
    if "latency" in summary:
        lat = summary["latency"]
        rows.append(["model latency, batch 1 (ms)", f"{lat['p50_ms']:.1f}", f"{lat['p95_ms']:.1f}",
                     f"{lat['fps']:.1f} FPS, {lat['runs']} runs after {lat['warmup']} warm-up, "
                     f"{lat['threads']} threads, input {'x'.join(map(str, lat['input_shape']))}"])
    if "onnx" in summary:
        onnx = summary["onnx"]
        rows.append(["onnxruntime CPU, batch 1 (ms)", f"{onnx['p50_ms']:.1f}", f"{onnx['p95_ms']:.1f}",
                     f"{onnx['fps']:.1f} FPS; detections {'match' if onnx['match'] else 'DIFFER'} "
                     f"({onnx['matched']}/{onnx['compared']}, max box diff {onnx['max_box_diff']:.3g} px)"])
    title = (f"aodraw infer: {summary['device']}, amp {summary['amp']}, batch size {summary['batch_size']}, "
             f"workers {summary['workers']}" + (f", slices {summary['slices']}" if summary["slices"] else ""))
    return format_table(["", "value / p50", "p95", ""], rows, title)
