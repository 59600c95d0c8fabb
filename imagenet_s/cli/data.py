"""Data commands: ``download lists|annotations``, ``prepare``, ``verify`` (over ``data_manifests`` and
``imagenet_s.dataset``)."""
from __future__ import annotations

import click

from data_manifests import manifest as manifests
from data_manifests.fetch import fetch_all
from imagenet_s import dataset, prepare
from imagenet_s.cli import options as opt
from plumbing.cli import download_options, echo_notice


@click.group("download")
def download():
    """Download ImageNet-S files listed in the manifest, verified by their published digests."""


def _download_command(group: str, what: str):
    @download.command(group, help=f"Download the {what} of --mode into --root (upstream layout), verified.")
    @opt.any_mode
    @click.option("--root", required=True, type=click.Path(file_okay=False), help="Folder to download into.")
    @download_options("IMAGENET_S_MIRROR")
    def command(mode, root, mirror, cache_dir, retries, timeout):
        manifest = manifests.load("imagenet_s")
        counts = fetch_all(manifest, manifest.select(group, mode), root, mirror=mirror, cache_dir=cache_dir,
                           retries=retries, timeout=timeout)
        click.echo(f"{root}: {sum(counts.values())} {group} files verified ({counts['downloaded']} downloaded, "
                   f"{counts['cached']} from the cache, {counts['present']} already there)")

    return command


download_lists_cmd = _download_command("lists", "15 list files (categories/, mapping/, names/; 5 per subset)")
download_annotations_cmd = _download_command("annotations", "annotation archives ImageNetS{N}-<md5>.zip")


@click.command("prepare")
@click.option("--imagenet-dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="ImageNet-1k root with train/ (wnid folders) and val/ (wnid folders or flat).")
@click.option("--save-dir", required=True, type=click.Path(file_okay=False), help="Writes SAVE_DIR/ImageNetS{N}/.")
@opt.any_mode
@click.option("--link", type=click.Choice(prepare.LINKS), default="symlink", show_default=True,
              help="How train/ (and 919 train-full/) refer to ImageNet; train-semi/validation/test are copied.")
@opt.workers
@click.option("--val-labels", type=click.Path(exists=True, dir_okay=False),
              help="Flat val/: LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt, checked against the "
                   "mapping (default: IMAGENET_DIR/LOC_val_solution.csv when there).")
@click.option("--val-synsets", type=click.Path(exists=True, dir_okay=False),
              help="With ILSVRC2012_validation_ground_truth.txt: the wnid of label k on line k.")
@opt.lists_mirror
@click.option("--annotations", "archive_mirror", help="Where the annotation archive is: a folder from `imagenet-s "
                                                      "download annotations`, or a mirror URL (default: "
                                                      "$IMAGENET_S_MIRROR, else upstream); md5-verified.")
@opt.cache_dir
def prepare_cmd(imagenet_dir, save_dir, mode, link, workers, val_labels, val_synsets, lists_mirror, archive_mirror,
                cache_dir):
    """Build the official ImageNet-S layout from ImageNet-1k (idempotent, resumable, never overwrites)."""
    for line in dataset.prepare_dataset(imagenet_dir, save_dir, mode, link, workers, val_labels, val_synsets,
                                        lists_mirror, archive_mirror, cache_dir):
        echo_notice(line)  # news during the build: a closed stdout must not stop it


@click.command("verify")
@click.option("--root", required=True, type=click.Path(exists=True, file_okay=False),
              help="The --save-dir of `imagenet-s prepare` (or an ImageNetS{N} folder itself).")
@opt.any_mode
@opt.lists_mirror
@opt.cache_dir
def verify_cmd(root, mode, lists_mirror, cache_dir):
    """Check file counts per split and class of a built ImageNet-S folder against the list files."""
    for line in dataset.verify_dataset(root, mode, lists_mirror, cache_dir):
        click.echo(line)
