"""``imagenet-s infer``: a trained segmentor over an ImageNet-S split, predictions as official PNGs, a submission zip.

Images are prepared by the config's test pipeline (annotation loading dropped) in worker processes (a prefetching
torch ``DataLoader``, pinned memory on CUDA). Batches hold images of one prepared size only (images are ordered by
the size the pipeline gives them, read from their headers), so nothing is padded and a batch predicts what batch 1
predicts. The model runs under ``torch.inference_mode``, channels-last and autocast on CUDA; ``ImageNetSSegmentor``
brings each image's logits to its original size (with the 1000-pixel rule), predicted labels go through a match
(``match.json``, official format: the fully unsupervised protocol's cluster -> class map) when one is given, and
PNGs are encoded and written
atomically by a small thread pool while the next batch runs. PNGs already there are complete (atomic writes) and are
skipped, so an interrupted run is simply rerun.
"""
from __future__ import annotations

import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import TRANSFORMS
from PIL import Image

import imagenet_s.mmseg  # noqa: F401  (registers the plug-in; allow-lists MMEngine checkpoint globals)
from evaluators.luss.matching import read_match
from imagenet_s.mmseg.dataset import (
    ResizeShorterSide,
    list_images,
    mask_name,
    split_folders,
    subset_root,
)
from imagenet_s.mmseg.launch import build_segmentor, load_config
from imagenet_s.mmseg.writer import save_prediction
from imagenet_s.submission import MATCH_FILE, METHOD_FIELDS, METHOD_FILE
from mmglue.inference import AMP_NAMES, MAX_DEFAULT_WORKERS, choose_amp, choose_device, speed_fields, speed_rows
from plumbing.errors import BadInputError
from plumbing.files import atomic_write, atomic_write_text, write_json
from plumbing.jobs import take_shard
from plumbing.tables import format_table

ANNOTATION_STEPS = ("LoadImageNetSAnnotations", "LoadAnnotations", "mmseg.LoadAnnotations")


def inference_pipeline(cfg) -> list:
    """The config's test pipeline without its annotation loading, built."""
    return [TRANSFORMS.build(s) for s in cfg.test_dataloader.dataset.pipeline if s["type"] not in ANNOTATION_STEPS]


def prepared_size(path: str, pipeline: list) -> tuple[int, int]:
    """The (H, W) an image will have after ``pipeline``'s ``ResizeShorterSide`` (its original size otherwise), from
    the file's header."""
    try:
        with Image.open(path) as im:
            w, h = im.size
    except OSError as exc:
        raise BadInputError(f"{path}: not a readable image ({exc})") from None
    for step in pipeline:
        if isinstance(step, ResizeShorterSide):
            s = step.size
            return (s, int(s * w / h)) if h <= w else (int(s * h / w), s)
    return h, w


def same_size_batches(sizes: list[tuple[int, int]], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of at most ``batch_size`` images of one size, sizes in sorted order and the
    original order kept within a size."""
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    batches, current = [], []
    for i in order:
        if current and (len(current) == batch_size or sizes[current[0]] != sizes[i]):
            batches.append(current)
            current = []
        current.append(i)
    return batches + ([current] if current else [])


class SplitImages(torch.utils.data.Dataset):
    """The images to predict, each prepared by the pipeline (``inputs``, ``data_samples``); a failure comes back as
    ``{"error": message}`` so that it reaches the caller as one line."""

    def __init__(self, paths: list[str], pipeline: list):
        self.paths, self.pipeline = paths, Compose(pipeline)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> dict:
        path = self.paths[index]
        try:
            return self.pipeline({"img_path": path, "seg_map_path": None, "reduce_zero_label": False,
                                  "seg_fields": []})
        except BadInputError as exc:
            return {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 -- any loader failure is reported as this file's problem
            return {"error": f"{path}: cannot read the image ({type(exc).__name__}: {exc})"}


def load_model(cfg, checkpoint: str, device: torch.device):
    """The config's segmentor with the checkpoint's weights loaded strictly, in eval mode on ``device``
    (channels-last on CUDA). Raises BadInputError for a missing, unreadable or unfitting checkpoint."""
    if not Path(checkpoint).is_file():
        raise BadInputError(f"{checkpoint}: checkpoint file not found")
    model = build_segmentor(cfg)
    try:
        load_checkpoint(model, checkpoint, map_location="cpu", strict=True, logger="silent")
    except RuntimeError as exc:
        raise BadInputError(f"{checkpoint}: does not fit the config's model ({str(exc).splitlines()[0]})") from None
    except Exception as exc:  # noqa: BLE001 -- unpickling failures have many types
        raise BadInputError(f"{checkpoint}: not a readable checkpoint ({type(exc).__name__}: {exc})") from None
    model.to(device).eval()
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
        model.data_preprocessor._non_blocking = True
    return model


def method_text(method: dict | str | os.PathLike | None) -> str:
    """``method.txt`` of a submission: a file's text as it is, or ``Field: value`` lines of the six fields from a
    dict (missing fields left empty)."""
    if method is None:
        method = {}
    if isinstance(method, dict):
        return "\n".join(f"{f}: {method.get(f, '')}" for f in METHOD_FIELDS) + "\n"
    try:
        return Path(method).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{method}: method file not found") from None


def write_submission(out_dir: str | os.PathLike, names: list[str], zip_path: str | os.PathLike,
                     num_classes: int) -> Path:
    """Zip ``OUT_DIR``'s predictions ``names`` at the archive's root (stored: PNGs are compressed already), with
    ``method.txt`` and the identity ``match.json`` (semi-supervised predictions are class ids), atomically."""
    out_dir = Path(out_dir)

    def fill(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as z:
            for name in names:
                z.write(out_dir / name, name)
            z.writestr(METHOD_FILE, (out_dir / METHOD_FILE).read_bytes())
            z.writestr(MATCH_FILE, "{" + ", ".join(f'"{i}": {i}' for i in range(num_classes + 1)) + "}")

    return atomic_write(zip_path, fill)


def match_table(match: str | os.PathLike, num_classes: int) -> np.ndarray:
    """(N + 1,) int32 table from predicted label to class of an official ``match.json`` (``{"0": 0, "1": 17, ...}``);
    labels the file does not name keep their id. Raises BadInputError for a missing or invalid file."""
    table = np.arange(num_classes + 1, dtype=np.int32)
    for label, cls in read_match(match, num_classes).items():
        table[label] = cls
    return table


def _as_list(items: list) -> list:
    return items


def _check(items: list) -> None:
    for item in items:
        if "error" in item:
            raise BadInputError(item["error"])


def run_inference(config: str, checkpoint: str, data_root: str, mode: int, split: str, out: str,
                  zip_path: str | None = None, method: dict | str | None = None, batch_size: int = 1,
                  amp: str | None = None, device: str | None = None, workers: int | None = None,
                  shard: tuple[int, int] | None = None, progress: bool = True, report: str | None = None,
                  match: str | os.PathLike | None = None) -> dict:
    """Predict every image of ``split`` (``validation`` or ``test``) of ImageNet-S-``mode`` under ``data_root`` into
    ``OUT/wnid/NAME.png`` (official encoding and size), write ``OUT/method.txt`` and, with ``zip_path``, the
    submission zip. ``match``: an official ``match.json`` applied to the predicted labels before they are written
    (the zip's identity ``match.json`` then keeps a scorer from re-fitting); ``mode`` may be any N of a toy tree.
    Returns the speed report: images, skipped, seconds, images_per_s, latency_batch_ms and latency_image_ms
    (p50/p95), peak_memory_mb (+ kind), device, amp, batch_size, workers.

    Raises:
        BadInputError: a bad option, a missing folder, checkpoint or image, an unreadable image; ``zip_path`` with
            ``shard`` (the zip needs every image: rerun without ``--shard`` once the shards are done)."""
    from tqdm import tqdm

    if split not in ("validation", "test"):
        raise BadInputError(f"--split: expected validation or test, got {split!r}")
    if zip_path and shard:
        raise BadInputError("--zip needs every image: run the shards, then rerun without --shard (it resumes)")
    dev = choose_device(device)
    amp_dtype = choose_amp(amp, dev)
    cfg = load_config(config)
    init_default_scope(cfg.get("default_scope", "mmseg"))
    classes = int(cfg.model.decode_head.num_classes) - 1
    if classes != int(mode):
        raise BadInputError(f"--mode {mode}: the config's model predicts {classes} classes")
    table = match_table(match, classes) if match is not None else None
    image_dir = subset_root(data_root, int(mode)) / split_folders(split)[0]
    names = take_shard(list_images(image_dir), shard)
    todo = [n for n in names if not (Path(out) / mask_name(n)).is_file()]
    pipeline = inference_pipeline(cfg)
    paths = [str(image_dir / n) for n in todo]
    batches = same_size_batches([prepared_size(p, pipeline) for p in paths], batch_size)
    workers = min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS) if workers is None else workers
    loader = torch.utils.data.DataLoader(SplitImages(paths, pipeline), batch_sampler=batches, num_workers=workers,
                                         collate_fn=_as_list, pin_memory=dev.type == "cuda",
                                         persistent_workers=False, prefetch_factor=4 if workers else None)
    model = load_model(cfg, checkpoint, dev) if todo else None
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    batch_times, image_times, pending = [], [], []
    start = time.perf_counter()
    with torch.inference_mode(), ThreadPoolExecutor(2) as writer, \
            tqdm(total=len(todo), unit="img", desc="infer", disable=None if progress else True) as bar:
        for items in loader:
            _check(items)
            t = time.perf_counter()
            data = model.data_preprocessor(pseudo_collate(items), False)
            if dev.type == "cuda":
                data["inputs"] = data["inputs"].contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                outputs = model(**data, mode="predict")
            preds = [o.pred_sem_seg.data[0].to(torch.int32).cpu().numpy() for o in outputs]
            if table is not None:
                preds = [table[p] for p in preds]
            elapsed = time.perf_counter() - t
            batch_times.append(elapsed)
            image_times += [elapsed / len(items)] * len(items)
            for o, pred in zip(outputs, preds):
                pending.append(writer.submit(save_prediction, out, o.metainfo["img_path"], pred))
            bar.update(len(items))
        for job in pending:
            job.result()
    seconds = time.perf_counter() - start
    atomic_write_text(Path(out) / METHOD_FILE, method_text(method))
    if zip_path:
        write_submission(out, [mask_name(n) for n in names], zip_path, int(mode))
    summary = {"images": len(todo), "skipped": len(names) - len(todo), "seconds": seconds,
               "images_per_s": len(todo) / seconds if todo else 0.0, "batch_size": batch_size,
               **speed_fields(batch_times, image_times, dev), "device": dev.type,
               "amp": AMP_NAMES.get(amp_dtype, "off"), "workers": workers, "zip": zip_path}
    if report:
        write_json(report, summary)
    return summary


def report_table(summary: dict) -> str:
    """The speed report as a small text table."""
    rows = speed_rows(summary, f"{summary['images']} images in {summary['seconds']:.2f} s ({summary['skipped']} "
                               "already done)")
    title = (f"imagenet-s infer: {summary['device']}, amp {summary['amp']}, batch size {summary['batch_size']}, "
             f"workers {summary['workers']}")
    return format_table(["", "value / p50", "p95", ""], rows, title)
