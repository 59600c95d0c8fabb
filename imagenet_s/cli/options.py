"""Options and helpers the ``imagenet-s`` commands share (one definition each)."""
from __future__ import annotations

import click

from evaluators.luss import report
from evaluators.luss.metrics import LUSSResult
from imagenet_s import dataset, lists, submission
from plumbing.cli import json_option, shard_option, workers_option
from plumbing.files import write_csv, write_json

MODES = dataset.MODES

any_mode = click.option("--mode", type=click.Choice((*MODES, "all")), required=True,
                         help="Subset: 50, 300, 919 or all.")
mode = click.option("--mode", type=click.Choice(MODES), required=True, help="ImageNet-S subset: 50, 300 or 919 "
                                                                           "classes.")


gt_dir = click.option("--gt-dir", required=True, help="Folder of ground-truth PNG masks (class folders).")
pred_dir = click.option("--pred-dir", required=True, help="Folder of predicted PNG masks, same relative paths.")
names = click.option("--names", "names_file", help="Names list (e.g. ImageNetS_im50_validation.txt): evaluate "
                                                    "only these masks instead of every ground truth.")
workers = workers_option()
shard = shard_option("the sorted masks (needs --save-state)")
save_state = click.option("--save-state", help="Write the mergeable state (.npz) for `imagenet-s merge`.")
categories = click.option("--categories", help="ImageNetS_categories_im{N}.txt: show WordNet ids per class.")
json = json_option("Write the official metrics (percent) as JSON.")
csv = click.option("--csv", "csv_out", help="Write per-class IoUs as CSV.")


def limits(command):
    """The archive limits of `score` and `leaderboard`."""
    for option in reversed((
            click.option("--max-total-bytes", type=click.IntRange(min=1), default=submission.Limits.max_total_bytes,
                         show_default=True, help="Refuse archives whose members add up to more bytes."),
            click.option("--max-ratio", type=click.FloatRange(min=1), default=submission.Limits.max_ratio,
                         show_default=True, help="Refuse members compressed more than this many times (zip bombs)."),
            click.option("--max-pixels", type=click.IntRange(min=1), default=submission.Limits.max_pixels,
                         show_default=True, help="Refuse PNGs with more pixels (decompression bombs)."))):
        command = option(command)
    return command


def names_of(names_file: str | None):
    """The names of a ``--names`` list file, or None (every ground truth)."""
    return None if names_file is None else lists.read_names(names_file)


def wnids_of(categories: str | None, num_classes: int):
    """The WordNet ids of a ``--categories`` file per class, or None."""
    return None if categories is None else lists.read_categories(categories, num_classes)


def show_result(result: LUSSResult, wnids, json_out: str | None, csv_out: str | None) -> None:
    """Write the official metrics (``--json``) and per-class IoUs (``--csv``), then print both tables."""
    if json_out:
        write_json(json_out, result.to_dict())
    if csv_out:
        write_csv(csv_out, ("id", "class", "IoU", "BIoU"), report.class_rows(result, wnids))
    click.echo(report.class_table(result, wnids))
    click.echo()
    click.echo(report.summary_table(result))


lists_mirror = click.option("--lists", "lists_mirror", help="Where the list files are: a folder from `imagenet-s "
                                                             "download lists`, or a mirror URL (default: "
                                                             "$IMAGENET_S_MIRROR, else upstream); always verified.")
cache_dir = click.option("--cache-dir", type=click.Path(file_okay=False), help="Download cache (default: "
                                                                                "~/.cache/rawseg-bench).")
