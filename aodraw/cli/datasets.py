"""``aodraw datasets convert-annotations|convert-raw``: PASCALRAW, NOD, LOD and ROD into the toolkit's COCO layout
and AODRaw's RAW representations (the library is ``aodraw.datasets``)."""
from __future__ import annotations

import re

import click

from aodraw.cli.convert import finish
from plumbing.cli import shard_option, workers_option
from plumbing.errors import BadInputError
from plumbing.files import write_json

_NAMES = ("pascalraw", "nod", "lod", "rod")
_dataset = click.option("--dataset", required=True, type=click.Choice(_NAMES),
                        help="pascalraw (Nikon D3200 DNG), nod (Sony ARW / Nikon NEF), lod (Canon CR2, dark and "
                             "normal exposures), rod (headerless 24-bit .raw).")


@click.group()
def datasets():
    """The other public RAW detection datasets (PASCALRAW, NOD, LOD, ROD) in AODRaw's formats."""


@datasets.command("convert-annotations")
@_dataset
@click.argument("src", metavar="IN.json", type=click.Path(dir_okay=False))
@click.option("--out", required=True, metavar="OUT.json", type=click.Path(dir_okay=False),
              help="Converted COCO file to write (integer ids, categories from 1, no annotation id 0, relative "
                   "file names, area = w*h where the file disagreed; original ids kept as source_id).")
def convert_annotations_cmd(dataset, src, out):
    """Convert a dataset's COCO annotation file so `aodraw evaluate`, pycocotools and MMDetection read it as it
    is; a file of another dataset is refused. What changed is printed as notes and kept in the file."""
    from aodraw.datasets.coco import convert_annotations

    result = convert_annotations(src, dataset)
    for note in result["conversion"]["notes"]:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {write_json(out, result, indent=False)}: {len(result['images'])} images, "
               f"{len(result['annotations'])} boxes, {len(result['categories'])} categories")


def _frame(_ctx, _param, value):
    if value is None:
        return None
    match = re.fullmatch(r"(\d+)x(\d+)", value)
    if not match or min(int(match[1]), int(match[2])) < 1:
        raise BadInputError(f"--frame: expected WIDTHxHEIGHT such as 602x400, got {value!r}")
    return int(match[1]), int(match[2])


@datasets.command("convert-raw")
@_dataset
@click.option("--root", required=True, type=click.Path(file_okay=False), help="Folder of the dataset's RAW files.")
@click.option("--target", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--kind", required=True, type=click.Choice(["downsample", "bayer"]),
              help="downsample: float32 3 x h x w .npy in [0,255] (black-subtracted, demosaiced, resized to the "
                   "annotation frame); bayer: packed uint16/uint32 4 x H/2 x W/2 planes + sidecar JSON.")
@click.option("--frame", metavar="WxH", callback=_frame,
              help="Size of the downsampled arrays [default: the dataset's annotation frame: pascalraw 602x400, "
                   "nod 599x400, lod 1200x800, rod 1440x928].")
@click.option("--width", type=click.IntRange(2), help="ROD only: mosaic width of the .raw files [2880].")
@click.option("--height", type=click.IntRange(2), help="ROD only: mosaic height of the .raw files [1856].")
@click.option("--cfa", type=click.Choice(["RGGB", "BGGR", "GRBG", "GBRG"], case_sensitive=False),
              help="ROD only: CFA pattern of the .raw files [RGGB].")
@workers_option()
@shard_option("the sorted file list")
def convert_raw_cmd(dataset, root, target, kind, frame, width, height, cfa, workers, shard):
    """Convert a dataset's RAW files (resumable: complete outputs are skipped; atomic; --workers, --shard)."""
    from aodraw.datasets.convert import convert_dataset_raws

    finish(convert_dataset_raws(dataset, root, target, kind, workers=workers, shard=shard, frame=frame,
                                width=width, height=height, cfa=cfa))
