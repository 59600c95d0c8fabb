"""The ``uss`` command line: ``evaluate`` (over ``evaluators.uss``), ``download`` and ``prepare`` (over ``uss.data``).
``python -m uss`` runs the same group."""
from __future__ import annotations

import click

from evaluators.uss import datasets, folders, metrics, report
from plumbing.cli import (
    CONTEXT_SETTINGS,
    ToolkitGroup,
    download_options,
    echo_json,
    echo_notice,
    format_option,
    json_option,
    shard_option,
    stack,
    workers_option,
)
from plumbing.files import write_csv, write_json
from uss import data

dataset_option = click.option("--dataset", type=click.Choice(datasets.DATASETS), required=True,
                              help="Dataset preset: its classes, label map and ground-truth format.")


@click.group(cls=ToolkitGroup, context_settings=CONTEXT_SETTINGS)
def main():
    """Unsupervised semantic segmentation (STEGO / PiCIE protocols and the LUSS switches): scoring and data."""


switches = stack(
    click.option("--matching", type=click.Choice(metrics.MATCHINGS), default="pixel-hungarian", show_default=True,
                 help="Pixel Hungarian (STEGO/PiCIE) or the image co-occurrence matching of LUSS."),
    click.option("--mean", type=click.Choice(metrics.MEANS), default="nan-skip", show_default=True,
                 help="NaN-skipping mean (STEGO) or every class with absent ones as 0 (LUSS official)."),
    click.option("--extra", type=click.Choice(metrics.EXTRAS), default="drop", show_default=True,
                 help="Pixels in extra clusters: dropped as STEGO does, or counted as wrong (corrected)."))
outputs = stack(
    json_option("Write the scores (percent), per-class IoUs and the assignment as JSON."),
    click.option("--csv", "csv_out", metavar="PER_CLASS.csv", help="Write per-class IoUs as CSV."),
    format_option("the scores"))


def _show(result, json_out, csv_out, output_format) -> None:
    if json_out:
        write_json(json_out, result.to_dict())
    if csv_out:
        write_csv(csv_out, ("id", "class", "IoU", "cluster"), report.class_rows(result))
    if output_format == "json":
        echo_json(result.to_dict())
    else:
        click.echo(report.summary_table(result))
        click.echo(report.class_table(result))


@main.command("evaluate")
@dataset_option
@click.option("--gt-dir", required=True, help="Ground truth in the dataset's own format (COCO-Stuff PNGs of fine "
                                              "ids, *_gtFine_labelIds.png, Potsdam .mat/.npy).")
@click.option("--pred-dir", required=True, help="Predicted cluster ids (.png or .npy) at the same relative paths.")
@click.option("--names", "names_file", metavar="LIST|curated",
              help="Evaluate only the listed images (paths, file names or ids); 'curated': the preset's curated list "
                   "(fetched through the manifest when not under --data-root).")
@click.option("--clusters", type=click.IntRange(1), help="K >= number of classes [default: the number of classes].")
@switches
@outputs
@click.option("--data-root", type=click.Path(file_okay=False), help="Where `uss download` put the curated list "
                                                                   "[default: a cache folder].")
@workers_option()
@shard_option("the sorted ground-truth files (needs --save-state)")
@click.option("--save-state", help="Write the mergeable state (.npz) for `uss merge`.")
def evaluate_cmd(dataset, gt_dir, pred_dir, names_file, clusters, matching, mean, extra, json_out, csv_out,
                 output_format, data_root, workers, shard, save_state):
    """Score predicted cluster maps with the USS protocol (STEGO's numbers by default)."""
    if shard is not None and save_state is None:
        raise click.UsageError("--shard needs --save-state FILE (merge the shards with `uss merge`)")
    names = None
    if names_file == "curated":
        if datasets.preset(dataset).curated is None:
            raise click.BadParameter(f"{dataset} has no curated list", param_hint="--names")
        names = data.curated_names(data_root or data.default_root())
    elif names_file is not None:
        names = folders.read_names(names_file)
    evaluator = folders.accumulate_tree(dataset, gt_dir, pred_dir, clusters, names=names, shard=shard,
                                        workers=workers)
    if save_state:
        folders.save_tree_state(save_state, evaluator, dataset, shard)
        click.echo(f"wrote evaluation state of {evaluator.num_images} images to {save_state}", err=True)
    if shard is None:
        _show(evaluator.compute(matching, mean, extra, class_names=datasets.preset(dataset).names, dataset=dataset),
              json_out, csv_out, output_format)


@main.command("merge")
@click.argument("states", nargs=-1, required=True)
@switches
@outputs
def merge_cmd(states, matching, mean, extra, json_out, csv_out, output_format):
    """Merge the state files of sharded `uss evaluate` runs and score them (matching solved on the whole set)."""
    evaluator, dataset = folders.merge_tree_states(list(states))
    _show(evaluator.compute(matching, mean, extra, class_names=datasets.preset(dataset).names, dataset=dataset),
          json_out, csv_out, output_format)


@main.command("download")
@dataset_option
@click.option("--root", required=True, type=click.Path(file_okay=False), help="Folder to download into.")
@click.option("--what", type=click.Choice(("lists", "annotations", "all")), default="all", show_default=True,
              help="COCO-Stuff: the curated list, the annotation archive, or both.")
@download_options("USS_MIRROR")
def download_cmd(dataset, root, what, mirror, cache_dir, retries, timeout):
    """Download COCO-Stuff files from the manifest, verified; Cityscapes and Potsdam: how to get them."""
    for line in data.download(dataset, root, what, mirror=mirror, cache_dir=cache_dir, retries=retries,
                              timeout=timeout):
        echo_notice(line)  # news during the downloads: a closed stdout must not stop them


@main.command("prepare")
@dataset_option
@click.option("--root", required=True, type=click.Path(file_okay=False),
              help="The dataset folder (COCO-Stuff: where `uss download` put the archive).")
@download_options("USS_MIRROR")
def prepare_cmd(dataset, root, mirror, cache_dir, retries, timeout):
    """Lay out (COCO-Stuff: extract val2017 annotations, fetch the curated list) and verify a dataset copy."""
    for line in data.prepare(dataset, root, mirror=mirror, cache_dir=cache_dir, retries=retries, timeout=timeout):
        echo_notice(line)
