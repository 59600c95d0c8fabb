"""``aodraw convert``, ``aodraw annotations`` and ``aodraw merge-slices``: the official derived folders and their
annotation files."""
from __future__ import annotations

import click

from plumbing.cli import shard_option, stack, workers_option
from plumbing.files import write_json

_converter_options = stack(
    workers_option(),
    shard_option("the sorted image list"),
    click.option("--cfa-aware", is_flag=True,
                 help="Turn orientation-8 images without breaking the CFA phase (correct colours); the default "
                      "reproduces the official folders, whose turned images have swapped colours."))


def finish(summary) -> None:
    """Print a job loop's summary lines; exit 1 (``error: ...``) when items failed."""
    for line in summary.lines():
        click.echo(line)
    summary.raise_if_failed()


@click.group()
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

    finish(convert_downsample(root, target, kind, workers=workers, shard=shard, cfa_aware=cfa_aware))


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
    finish(summary)


@convert.command("bayer")
@_root
@_target
@click.option("--downsample", type=click.Choice(["1", "3"]), default="1", show_default=True,
              help="1: full resolution; 3: planes resized to match the 1/3 downsampled images.")
@_converter_options
def convert_bayer_cmd(root, target, downsample, workers, shard, cfa_aware):
    """Un-demosaiced RAW as packed 4-plane uint16 .npy (4 x H/2 x W/2) + a sidecar JSON with levels and CFA."""
    from aodraw.convert.bayer import convert_bayer

    finish(convert_bayer(root, target, int(downsample), workers=workers, shard=shard, cfa_aware=cfa_aware))


@click.group()
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


@click.command("merge-slices")
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
