"""``aodraw infer``: a trained detector over a folder or an annotation file's images, COCO results out (the library
is ``aodraw.mmdet.infer``; torch and MMDetection are imported only when the command runs)."""
from __future__ import annotations

from pathlib import Path

import click

from plumbing.cli import needs_extra
from plumbing.errors import ToolkitRuntimeError


@click.command()
@click.argument("config")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--images", metavar="DIR", type=click.Path(file_okay=False),
              help="Image folder. Alone: every image file in it, sorted (RAW configs: *.npy; sRGB: JPG/PNG/...), "
                   "image ids 0, 1, ... in that order, written with file names and sizes to RESULTS.images.json. "
                   "With --ann: where the annotation file's images are.")
@click.option("--ann", metavar="ANN.json", type=click.Path(dir_okay=False),
              help="COCO annotation file naming the images and their ids (annotations optional); images resolved "
                   "under --images, else under the config's data_root + data_prefix.img.")
@click.option("--out", required=True, metavar="RESULTS.json", type=click.Path(dir_okay=False),
              help="COCO results list to write (ready for 'aodraw evaluate --dt').")
@click.option("--batch-size", type=click.IntRange(1), default=1, show_default=True,
              help="Images (with --slices: windows) per forward pass.")
@click.option("--amp", type=click.Choice(["bf16", "fp16", "off"]), default=None,
              help="Mixed precision (torch.autocast) for the backbone and neck; the heads, RoIAlign and NMS stay "
                   "float32. Default: bf16 on CUDA (fp16 where bf16 is unsupported), off on the CPU, where bf16 "
                   "is allowed and fp16 refused.")
@click.option("--slices", metavar="SIZE:GAP",
              help="Sliced inference on full-resolution images: the official windows (e.g. 1280:300), boxes shifted "
                   "back and merged by class-wise NMS. RAW configs read Bayer packs NAME.npy (4 x H/2 x W/2, 'aodraw "
                   "convert bayer') or 3 x H x W arrays; sRGB configs read the full-resolution images.")
@click.option("--nms-iou", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="With --slices: IoU threshold of the class-wise NMS across windows.")
@click.option("--device", type=click.Choice(["cuda", "cpu"]), default=None,
              help="Default: cuda when available, else cpu. CUDA runs channels-last with pinned-memory loading.")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="Loader worker processes (0: load in this process) [default: CPU count, at most 8].")
@click.option("--report", metavar="REPORT.json", type=click.Path(dir_okay=False),
              help="Also write the speed report (images/s, latency p50/p95, peak memory) as JSON.")
@click.option("--latency", is_flag=True,
              help="Also time the model alone at batch 1 (preprocessing, network, NMS; no file reading): warm-up "
                   "runs, then timed runs over the first images; p50/p95 ms and FPS go to the report.")
@click.option("--warmup", type=click.IntRange(0), default=10, show_default=True, help="With --latency: untimed runs.")
@click.option("--runs", type=click.IntRange(1), default=50, show_default=True, help="With --latency: timed runs.")
@click.option("--export", type=click.Choice(["onnx"]), default=None,
              help="Export the network to ONNX (RESULTS.onnx beside --out) and run it with onnxruntime on the CPU; "
                   "its detections are checked against PyTorch's (needs the onnx extra; single-stage detectors).")
def infer(config, checkpoint, images, ann, out, batch_size, amp, slices, nms_iou, device, workers, report, latency,
          warmup, runs, export):
    """Run a trained detector over images, write COCO results and print a speed report.

    CONFIG is a config file or a shipped recipe name, CHECKPOINT its weights. The report: images/s, latency
    p50/p95 per batch and per image, peak memory (CUDA: allocated; CPU: process RSS); with --latency the model's
    batch-1 latency and FPS, with --export onnx the onnxruntime run and its agreement (exit 1 when it disagrees).

    Category ids: the annotation file's (--ann, else the config's test annotation file when it exists), matched to
    the model's classes by name; without either, the class index (the categories go to RESULTS.images.json)."""
    if not images and not ann:
        raise click.UsageError("give --images DIR, --ann ANN.json or both")
    with needs_extra("train"):
        from aodraw.mmdet.infer import report_table, run_inference
    onnx_file = None
    if export:
        with needs_extra("onnx"):
            import onnx  # noqa: F401
            import onnxruntime  # noqa: F401
        onnx_file = str(Path(out).with_suffix(".onnx"))
    summary = run_inference(config, checkpoint, out, images=images, ann=ann, batch_size=batch_size, amp=amp,
                            slices=slices, device=device, workers=workers, nms_iou=nms_iou, report=report,
                            latency={"warmup": warmup, "runs": runs} if latency else None, export=onnx_file)
    click.echo(report_table(summary))
    click.echo(f"wrote {out}: {summary['detections']} detections on {summary['images']} images", err=True)
    if export and not summary["onnx"]["match"]:
        raise ToolkitRuntimeError(f"{onnx_file}: onnxruntime's detections differ from PyTorch's "
                                  f"({summary['onnx']['matched']} of {summary['onnx']['compared']} match)")
