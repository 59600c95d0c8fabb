"""``aodraw pretrain ...``: synthetic RAW, camera calibration, distillation training and backbone export.
Heavy dependencies (torch, MMEngine, MMDetection) are imported inside the commands."""
from __future__ import annotations

import click

from aodraw.cli.convert import finish
from plumbing.cli import workers_option
from plumbing.tables import format_table


@click.group()
def pretrain():
    """RAW pre-training with sRGB distillation (unprocessed ImageNet-style data, AODRaw camera model)."""


@pretrain.command("unprocess")
@click.option("--images", required=True, type=click.Path(file_okay=False), help="Folder of sRGB JPG/PNG images.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--camera", type=click.Path(dir_okay=False), metavar="CAMERA.json",
              help="Camera parameters (from 'aodraw pretrain calibrate') [default: the AODRaw Sony camera].")
@click.option("--seed", type=int, default=0, show_default=True, help="With the image name, fixes every random draw.")
@workers_option()
@click.option("--recursive", is_flag=True, help="Also images in subfolders (outputs keep the relative path).")
def unprocess_cmd(images, out, camera, seed, workers, recursive):
    """Write NAME.npy (float32 3 x H x W in [0,255], the images_downsampled_raw representation) and NAME.bayer.npy
    (uint16 4 x H/2 x W/2, planes R,G,B,G) of synthetic RAW for every image. Odd sizes lose the last row/column."""
    from aodraw.pretrain.camera import read_camera
    from aodraw.pretrain.synthesize import unprocess_folder

    finish(unprocess_folder(images, out, read_camera(camera), seed, workers, recursive))


@pretrain.command("calibrate")
@click.option("--raw-dir", required=True, type=click.Path(file_okay=False),
              help="Folder of RAW files of one camera (ARW, DNG, ...), ideally over its ISO range.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="CAMERA.json",
              help="Camera file to write.")
@workers_option()
def calibrate_cmd(raw_dir, out, workers):
    """Estimate colour matrix, white-balance range, levels and the noise model from real RAW files."""
    from aodraw.pretrain.calibrate import calibrate
    from aodraw.pretrain.camera import write_camera

    camera, measured, failed = calibrate(raw_dir, workers)
    rows = [[m["file"], f"{m['red_gain']:.3f}", f"{m['blue_gain']:.3f}", f"{m['shot']:.3g}", f"{m['read']:.3g}",
             m["black_level"], m["white_level"]] for m in measured]
    written = write_camera(out, camera)  # before printing: a closed stdout ends the command there
    click.echo(format_table(["file", "red gain", "blue gain", "shot", "read", "black", "white"], rows))
    for line in failed:
        click.echo(f"warning: skipped {line}", err=True)
    click.echo(f"wrote {written}")


@pretrain.command("train")
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--work-dir", type=click.Path(file_okay=False), help="Overrides the config's work_dir.")
@click.option("--cfg-options", multiple=True, metavar="KEY=VALUE",
              help="Override config entries (MMEngine syntax, e.g. train.max_steps=100); repeatable.")
def train_cmd(config, work_dir, cfg_options):
    """Distil an sRGB-pretrained teacher into a RAW student (resumes from WORK_DIR/latest.pth). For several GPUs:
    torchrun --nproc-per-node N -m aodraw pretrain train CONFIG."""
    from aodraw.pretrain.train import load_config, train

    cfg = load_config(config, cfg_options, work_dir)
    click.echo(f"finished: {train(cfg)}")


@pretrain.command("export")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="BACKBONE.pth",
              help="Backbone checkpoint for the *_raw-pretraining detection recipes.")
def export_cmd(checkpoint, out):
    """Write the student backbone as {'state_dict': plain backbone keys, 'meta': ...} (loads strictly into the
    MMDetection backbone of the same config)."""
    from aodraw.pretrain.export import export_backbone

    meta = export_backbone(checkpoint, out)
    click.echo(f"wrote {out}: {meta['num_tensors']} tensors, {meta['arch']}, step {meta['step']}")
