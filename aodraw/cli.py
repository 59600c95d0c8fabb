"""The ``aodraw`` command line: a thin layer over ``aodraw`` and ``evaluators``."""
from __future__ import annotations

from pathlib import Path

import click

from aodraw.download import FOLDERS, download_annotations, instructions
from aodraw.infer_cli import infer
from aodraw.recipes_cli import recipes
from data_manifests.options import download_options
from evaluators.detection import PRESETS, evaluate_detections
from evaluators.detection.engines import BACKENDS
from evaluators.detection.presets import PROTOCOLS
from evaluators.errors import ToolkitError, ToolkitGroup
from evaluators.report import detection_report, detection_rows, format_table, percent, plot_detection
from evaluators.results import write_csv, write_json
from evaluators.shards import parse_shard


@click.group(cls=ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """AODRaw: RAW object detection in diverse conditions -- evaluation, data tools, recipes."""


main.add_command(recipes)
main.add_command(infer)


@main.command()
@click.option("--gt", required=True, metavar="GT.json", help="COCO ground truth; images may carry a 'tag' list.")
@click.option("--dt", required=True, metavar="DT.json",
              help="Detections as a COCO results list (what MMDetection's --format-only writes).")
@click.option("--preset", type=click.Choice(list(PRESETS)), default="aodraw", show_default=True,
              help="coco: standard COCO bbox; aodraw: downsampled images (areas 128^2/320^2, 100/300/1000 "
                   "detections, ignore regions); aodraw-slice: 1280 px slices (areas 64^2/160^2).")
@click.option("--backend", type=click.Choice(BACKENDS), default="hotcoco", show_default=True,
              help="Matching engine; both give identical numbers, pycocotools is the slow reference.")
@click.option("--protocol", type=click.Choice(PROTOCOLS), default="official", show_default=True,
              help="official: upstream's numbers (single-tag images count twice in their tag's bucket, a "
                   "box with id 0 never matches); corrected: every image once, id 0 matches.")
@click.option("--json", "json_out", metavar="OUT.json", help="Write every number (full precision) as JSON.")
@click.option("--csv", "csv_out", metavar="OUT.csv", help="Write every number as long-format CSV.")
@click.option("--plots", "plots_dir", metavar="DIR", help="Write PR curves per condition and an AP bar chart.")
@click.option("--errors", is_flag=True, help="Add the TIDE error breakdown (classification, localisation, ...).")
def evaluate(gt, dt, preset, backend, protocol, json_out, csv_out, plots_dir, errors):
    """Score detections: overall COCO metrics, per condition tag (and tag combination), per category."""
    result = evaluate_detections(gt, dt, preset=preset, backend=backend, protocol=protocol, errors=errors)
    click.echo(detection_report(result))
    _write_outputs(result, json_out, csv_out, plots_dir)


@main.command()
@click.option("--out", default="demo_out", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the synthetic data and the results.")
@click.option("--images", default=400, show_default=True, type=click.IntRange(1), help="Synthetic test images.")
@click.option("--seed", default=0, show_default=True, type=int)
def demo(out, images, seed):
    """Convert a small synthetic RAW set (downsample, slice, merge-back), then generate a synthetic AODRaw-style
    test set and detections and evaluate them (AODRaw protocol)."""
    from aodraw.synthetic import SyntheticSpec, make_dataset

    out = Path(out)
    try:
        from aodraw.demo_raw import raw_demo

        for line in raw_demo(out / "raw", seed):
            click.echo(line)
    except ImportError as exc:  # tifffile (the DNG writer) comes with the dev extra
        click.echo(f"skipping the RAW stages: {exc}")
    gt, dt = make_dataset(SyntheticSpec(num_images=images, seed=seed))
    write_json(out / "gt.json", gt, indent=False)
    write_json(out / "dt.json", dt, indent=False)
    click.echo(f"synthetic AODRaw-style test set: {len(gt['images'])} images, {len(gt['annotations'])} boxes, "
               f"{len(dt)} detections -> {out}/gt.json, {out}/dt.json")
    result = evaluate_detections(out / "gt.json", out / "dt.json", preset="aodraw")
    click.echo(format_table(["condition", "AP", "AP50", "AP75", "images"],
                            [[n, percent(c["AP"]), percent(c["AP50"]), percent(c["AP75"]), c["num_images"]]
                             for n, c in result.conditions.items()],
                            f"AODRaw protocol ({result.protocol}), per condition, values in %"))
    _write_outputs(result, out / "results.json", out / "results.csv", out / "plots")


def _converter_options(func):
    """The options every converter shares: --workers, --shard, --cfa-aware."""
    func = click.option("--cfa-aware", is_flag=True,
                        help="Turn orientation-8 images without breaking the CFA phase (correct colours); the "
                             "default reproduces the official folders, whose turned images have swapped colours.")(func)
    func = click.option("--shard", metavar="K/N", callback=lambda _c, _p, v: v and parse_shard(v),
                        help="Convert only shard K of N of the sorted image list (for batch schedulers).")(func)
    return click.option("--workers", type=click.IntRange(1), default=None,
                        help="Worker processes [default: CPU count].")(func)


def _finish(summary) -> None:
    for line in summary.lines():
        click.echo(line)
    summary.raise_if_failed()


@main.group()
def convert():
    """Regenerate the official derived folders (identical output), or Bayer packs; resumable and shardable."""


_root = click.option("--root", required=True, type=click.Path(file_okay=False),
                     help="The images/ folder (NAME.ARW + NAME.JPG pairs; .DNG, .NEF, ... RAWs too). Only "
                          "2x2 Bayer sensors: other RAWs are reported as failed.")
_target = click.option("--target", required=True, type=click.Path(file_okay=False), help="Output folder.")


@convert.command("downsample")
@_root
@_target
@click.option("--kind", type=click.Choice(["raw", "srgb"]), required=True,
              help="raw: images_downsampled_raw (float32 3 x H/3 x W/3 .npy in [0,255]); srgb: "
                   "images_downsampled_srgb (.JPG).")
@_converter_options
def convert_downsample_cmd(root, target, kind, workers, shard, cfa_aware):
    """Downsample every image by 3 exactly as the official scripts do."""
    from aodraw.convert.downsample import convert_downsample

    _finish(convert_downsample(root, target, kind, workers=workers, shard=shard, cfa_aware=cfa_aware))


@convert.command("slice")
@_root
@click.option("--ann", required=True, type=click.Path(dir_okay=False), help="COCO annotations of the images.")
@_target
@click.option("--save-ann", required=True, type=click.Path(dir_okay=False), help="Slice annotation file to write.")
@click.option("--kind", type=click.Choice(["raw", "srgb"]), required=True,
              help="raw: images_slice_raw (float32 4 x SIZE/2 x SIZE/2 packed planes); srgb: images_slice_srgb.")
@click.option("--size", type=click.IntRange(2), default=1280, show_default=True, help="Window size (even).")
@click.option("--gap", type=click.IntRange(0), default=300, show_default=True, help="Overlap of windows.")
@click.option("--iof-thr", type=click.FloatRange(0, 1), default=0.4, show_default=True,
              help="A box with IoF >= this goes into a window; 0 < IoF < this goes in as a crowd box.")
@click.option("--img-rate-thr", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Windows whose in-image fraction is <= this are dropped.")
@_converter_options
def convert_slice_cmd(root, ann, target, save_ann, kind, size, gap, iof_thr, img_rate_thr, workers, shard,
                      cfa_aware):
    """Cut every annotated image into overlapping windows exactly as the official splitter does."""
    from aodraw.convert.slice import convert_slice

    summary = convert_slice(root, ann, target, save_ann, kind, size, gap, iof_thr, img_rate_thr, workers=workers,
                            shard=shard, cfa_aware=cfa_aware)
    click.echo(f"wrote {save_ann}", err=True)
    _finish(summary)


@convert.command("bayer")
@_root
@_target
@click.option("--downsample", type=click.Choice(["1", "3"]), default="1", show_default=True,
              help="1: full resolution; 3: planes resized to match the 1/3 downsampled images.")
@_converter_options
def convert_bayer_cmd(root, target, downsample, workers, shard, cfa_aware):
    """Un-demosaiced RAW as packed 4-plane uint16 .npy (4 x H/2 x W/2) + a sidecar JSON with levels and CFA."""
    from aodraw.convert.bayer import convert_bayer

    _finish(convert_bayer(root, target, int(downsample), workers=workers, shard=shard, cfa_aware=cfa_aware))


@main.group()
def annotations():
    """Annotation variants for the derived image folders."""


@annotations.command("downsample")
@click.option("--ann", required=True, type=click.Path(dir_okay=False), help="COCO annotations of the full images.")
@click.option("--scale", type=click.IntRange(1), default=3, show_default=True, help="Downsampling factor.")
@click.option("--min-size", type=click.FloatRange(0), default=32, show_default=True,
              help="Scaled boxes with a side below this are handled by --small (0: keep every box).")
@click.option("--small", type=click.Choice(["ignore", "drop"]), default="ignore", show_default=True,
              help="ignore: keep small boxes as ignored crowd boxes; drop: remove them.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Annotation file to write.")
def annotations_downsample(ann, scale, min_size, small, out):
    """Annotations for the 1/scale downsampled images (boxes divided by scale, small boxes ignored or dropped)."""
    from aodraw.annotations import downsample_annotations

    result = downsample_annotations(ann, scale, min_size, small)
    click.echo(f"wrote {write_json(out, result, indent=False)}: {len(result['images'])} images, "
               f"{len(result['annotations'])} boxes")


@main.command("merge-slices")
@click.option("--slice-ann", required=True, type=click.Path(dir_okay=False),
              help="The slice annotation file (images with ori_id, x_start, y_start).")
@click.option("--dt", required=True, type=click.Path(dir_okay=False), help="Detections on the slices (COCO results).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Full-image detections to write.")
@click.option("--nms-iou", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Class-wise NMS IoU threshold across overlapping windows.")
def merge_slices_cmd(slice_ann, dt, out, nms_iou):
    """Map slice detections back to full images so slice models can be scored with 'aodraw evaluate'."""
    from aodraw.convert.merge import merge_slices

    merged = merge_slices(slice_ann, dt, nms_iou)
    click.echo(f"wrote {write_json(out, merged, indent=False)}: {len(merged)} detections")


@main.command()
@click.option("--ann", required=True, type=click.Path(dir_okay=False), help="COCO annotation file.")
@click.option("--csv", "csv_out", metavar="OUT.csv", help="Also write the tables as CSV.")
def stats(ann, csv_out):
    """Images and boxes per condition, per category and per size range (COCO areas)."""
    from aodraw.annotations import annotation_stats

    tables = annotation_stats(ann)
    for name, rows in tables.items():
        click.echo(format_table([name, "images", "boxes", "crowd"], rows) + "\n")
    if csv_out:
        rows = [[name, *row] for name, table in tables.items() for row in table]
        click.echo(f"wrote {write_csv(csv_out, ['table', 'name', 'images', 'boxes', 'crowd'], rows)}", err=True)


def _write_outputs(result, json_out, csv_out, plots_dir) -> None:
    written = []
    if json_out:
        written.append(write_json(json_out, result.to_dict()))
    if csv_out:
        written.append(write_csv(csv_out, ["scope", "name", "metric", "value"], detection_rows(result)))
    if plots_dir:
        written += plot_detection(result, plots_dir)
    for path in written:
        click.echo(f"wrote {path}", err=True)


@main.command("lock")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, metavar="LOCK.json", help="Lock file to write (sha256 and size per file).")
def lock_cmd(root, out):
    """Record sha256 and size of every file of a local AODRaw copy (upstream publishes no checksums)."""
    from aodraw.dataset_check import lock

    doc = lock(root)
    write_json(out, doc)
    click.echo(f"wrote {out}: {len(doc['files'])} files")


@main.command("verify")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.option("--lock", "lock_file", metavar="LOCK.json", help="Also compare every file with this lock (exact).")
def verify_cmd(root, lock_file):
    """Check an AODRaw copy: per-folder completeness, annotated images present, annotation consistency."""
    from aodraw.dataset_check import verify
    from evaluators.detection.validate import read_json

    rows, notes, problems = verify(root, read_json(lock_file, "lock")[0] if lock_file else None)
    click.echo(format_table(("folder", "published size", "files", "found", "status"), rows))
    for problem in notes + problems:
        click.echo(problem)
    if problems:
        raise ToolkitError(f"{root}: {len(problems)} problems (see above)")
    click.echo("no problems found")


@main.command("download")
@click.argument("what", type=click.Choice(list(FOLDERS)))
@click.option("--root", required=True, type=click.Path(file_okay=False), help="The AODRaw root folder.")
@download_options("AODRAW_MIRROR")
def download_cmd(what, root, mirror, cache_dir, retries, timeout):
    """Get an AODRaw folder: annotations through Google Drive (or a mirror); for the image folders, which upstream
    offers only through browser mirrors, print where to get them."""
    if what != "annotations":
        for line in instructions(what, root):
            click.echo(line)
        return
    click.echo(download_annotations(root, mirror, cache_dir=cache_dir, retries=retries, timeout=timeout))


from aodraw.pretrain.cli import pretrain  # noqa: E402

main.add_command(pretrain)
