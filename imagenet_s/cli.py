"""The ``imagenet-s`` command line: a thin layer over ``imagenet_s`` and ``evaluators.luss``."""
from __future__ import annotations

import click

from data_manifests import manifest as manifests
from data_manifests.fetch import fetch_all
from evaluators.luss import folders, matching, report, state
from evaluators.luss.metrics import LUSSEvaluator, LUSSResult
from imagenet_s import dataset, leaderboard, lists, prepare, submission
from plumbing.cli import CONTEXT_SETTINGS, ToolkitGroup, download_options, json_option, shard_option, workers_option
from plumbing.errors import BadInputError
from plumbing.files import write_csv, write_json

MODES = dataset.MODES


@click.group(cls=ToolkitGroup, context_settings=CONTEXT_SETTINGS)
def main():
    """ImageNet-S (large-scale unsupervised semantic segmentation): matching, evaluation, submissions."""


_any_mode = click.option("--mode", type=click.Choice((*MODES, "all")), required=True,
                         help="Subset: 50, 300, 919 or all.")
_mode = click.option("--mode", type=click.Choice(MODES), required=True, help="ImageNet-S subset: 50, 300 or 919 "
                                                                           "classes.")


_gt_dir = click.option("--gt-dir", required=True, help="Folder of ground-truth PNG masks (class folders).")
_pred_dir = click.option("--pred-dir", required=True, help="Folder of predicted PNG masks, same relative paths.")
_names = click.option("--names", "names_file", help="Names list (e.g. ImageNetS_im50_validation.txt): evaluate "
                                                    "only these masks instead of every ground truth.")
_workers = workers_option()
_shard = shard_option("the sorted masks (needs --save-state)")
_save_state = click.option("--save-state", help="Write the mergeable state (.npz) for `imagenet-s merge`.")
_categories = click.option("--categories", help="ImageNetS_categories_im{N}.txt: show WordNet ids per class.")
_json = json_option("Write the official metrics (percent) as JSON.")
_csv = click.option("--csv", "csv_out", help="Write per-class IoUs as CSV.")


def _limits(command):
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


def _shard_of(shard: tuple[int, int] | None, save_state: str | None):
    if shard is not None and save_state is None:
        raise BadInputError("--shard needs --save-state FILE (merge the shards with `imagenet-s merge`)")
    return shard


def _names_of(names_file: str | None):
    return None if names_file is None else lists.read_names(names_file)


def _wnids_of(categories: str | None, num_classes: int):
    return None if categories is None else lists.read_categories(categories, num_classes)


def _show_result(result: LUSSResult, wnids, json_out: str | None, csv_out: str | None) -> None:
    if json_out:
        write_json(json_out, result.to_dict())
    if csv_out:
        write_csv(csv_out, ("id", "class", "IoU", "BIoU"), report.class_rows(result, wnids))
    click.echo(report.class_table(result, wnids))
    click.echo()
    click.echo(report.summary_table(result))


@main.command("match")
@_gt_dir
@_pred_dir
@_mode
@click.option("--out", help="Match file to write: {\"label\": class} with keys \"0\"..\"N\".")
@_names
@_workers
@_shard
@_save_state
def match_cmd(gt_dir, pred_dir, mode, out, names_file, workers, shard, save_state):
    """Fit the official Hungarian matching of predicted labels to classes (fully unsupervised protocol)."""
    shard_k_n = _shard_of(shard, save_state)
    if out is None and save_state is None:
        raise BadInputError("match: give --out MATCH.json (or --save-state for a shard)")
    if out is not None and shard_k_n is not None:
        raise BadInputError("match: --out needs every image; merge the shards' states with `imagenet-s merge`")
    counter = folders.accumulate_matching(gt_dir, pred_dir, int(mode), names=_names_of(names_file),
                                          shard=shard_k_n, workers=workers)
    if save_state:
        state.save_state(save_state, counter, shard=shard_k_n)
        click.echo(f"wrote matching state of {counter.num_images} images to {save_state}")
    if out:
        _write_match(counter, out)


def _write_match(counter: matching.MatchCounter, out: str) -> None:
    match = counter.match()
    matching.write_match(out, match)
    moved = sum(1 for k, v in match.items() if k != v)
    click.echo(f"matched {counter.num_classes} labels over {counter.num_images} images "
               f"(munkres {matching.munkres_version()}; {moved} labels renamed) -> {out}")


@main.command("evaluate")
@_gt_dir
@_pred_dir
@_mode
@click.option("--match", "match_file", help="Match file (official format) applied to the predictions first.")
@_names
@_categories
@_json
@_csv
@_workers
@_shard
@_save_state
def evaluate_cmd(gt_dir, pred_dir, mode, match_file, names_file, categories, json_out, csv_out, workers, shard,
                 save_state):
    """Score predicted masks with the official LUSS metrics (mIoU, Acc, mBIoU, sizes, FMeasure)."""
    num_classes = int(mode)
    shard_k_n = _shard_of(shard, save_state)
    wnids = _wnids_of(categories, num_classes)
    match = None if match_file is None else matching.read_match(match_file, num_classes)
    evaluator = folders.accumulate_evaluation(gt_dir, pred_dir, num_classes, match, names=_names_of(names_file),
                                              shard=shard_k_n, workers=workers)
    if save_state:
        state.save_state(save_state, evaluator, shard=shard_k_n, match=match)
        click.echo(f"wrote evaluation state of {evaluator.num_images} images to {save_state}")
    if evaluator.num_images:
        _show_result(evaluator.compute(), wnids, json_out, csv_out)


@main.command("merge")
@click.argument("states", nargs=-1, required=True)
@click.option("--out", help="Match file to write (states of `match --shard`).")
@_categories
@_json
@_csv
def merge_cmd(states, out, categories, json_out, csv_out):
    """Merge the state files of sharded `match` or `evaluate` runs into one result."""
    merged, _meta = state.merge_states(list(states))
    if isinstance(merged, LUSSEvaluator):
        if out:
            raise BadInputError("merge: --out is for matching states; these are evaluation states (use --json)")
        _show_result(merged.compute(), _wnids_of(categories, merged.num_classes), json_out, csv_out)
    else:
        if not out:
            raise BadInputError("merge: these are matching states; give --out MATCH.json")
        _write_match(merged, out)


@main.command("score")
@click.argument("archive")
@_gt_dir
@_mode
@_names
@_json
@_workers
@_limits
def score_cmd(archive, gt_dir, mode, names_file, json_out, workers, max_total_bytes, max_ratio, max_pixels):
    """Validate a submission zip safely (never extracted), then match if needed and evaluate it."""
    limits = submission.Limits(max_total_bytes, max_ratio, max_pixels)
    scored = submission.score_submission(archive, gt_dir, int(mode), names=_names_of(names_file), limits=limits,
                                         workers=workers, notify=click.echo)
    if json_out:
        write_json(json_out, scored.to_dict())
    click.echo(f"method: {scored.method.get('Method name') or '(unnamed)'}")
    click.echo(report.summary_table(scored.result))


@main.command("leaderboard")
@click.argument("directory")
@_gt_dir
@_mode
@click.option("--out", required=True, help="CSV table to write, one row per archive, best mIoU first.")
@click.option("--cache", help="Folder of cached scores by archive sha256 (default: DIRECTORY/.scores).")
@_names
@_workers
@_limits
def leaderboard_cmd(directory, gt_dir, mode, out, cache, names_file, workers, max_total_bytes, max_ratio,
                    max_pixels):
    """Score every submission zip in DIRECTORY into one table (refused archives are listed with the reason)."""
    limits = submission.Limits(max_total_bytes, max_ratio, max_pixels)
    rows = leaderboard.leaderboard(directory, gt_dir, int(mode), cache_dir=cache, names=_names_of(names_file),
                                   limits=limits, workers=workers, notify=click.echo)
    write_csv(out, leaderboard.BOARD_COLUMNS, [[row.get(c, "") for c in leaderboard.BOARD_COLUMNS] for row in rows])
    shown = ("rank", "method", "archive", "match", "mIoU", "Acc", "mBIoU", "FMeasure", "status")
    click.echo(report.format_table(shown, [[row.get(c, "") for c in shown] for row in rows], align_left=4))
    click.echo(f"wrote {out}")


@main.group("download")
def download():
    """Download ImageNet-S files listed in the manifest, verified by their published digests."""


def _download_command(group: str, what: str):
    @download.command(group, help=f"Download the {what} of --mode into --root (upstream layout), verified.")
    @_any_mode
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


_lists_mirror = click.option("--lists", "lists_mirror", help="Where the list files are: a folder from `imagenet-s "
                                                             "download lists`, or a mirror URL (default: "
                                                             "$IMAGENET_S_MIRROR, else upstream); always verified.")
_cache_dir = click.option("--cache-dir", type=click.Path(file_okay=False), help="Download cache (default: "
                                                                                "~/.cache/rawseg-bench).")


@main.command("prepare")
@click.option("--imagenet-dir", required=True, type=click.Path(exists=True, file_okay=False),
              help="ImageNet-1k root with train/ (wnid folders) and val/ (wnid folders or flat).")
@click.option("--save-dir", required=True, type=click.Path(file_okay=False), help="Writes SAVE_DIR/ImageNetS{N}/.")
@_any_mode
@click.option("--link", type=click.Choice(prepare.LINKS), default="symlink", show_default=True,
              help="How train/ (and 919 train-full/) refer to ImageNet; train-semi/validation/test are copied.")
@_workers
@click.option("--val-labels", type=click.Path(exists=True, dir_okay=False),
              help="Flat val/: LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt, checked against the "
                   "mapping (default: IMAGENET_DIR/LOC_val_solution.csv when there).")
@click.option("--val-synsets", type=click.Path(exists=True, dir_okay=False),
              help="With ILSVRC2012_validation_ground_truth.txt: the wnid of label k on line k.")
@_lists_mirror
@click.option("--annotations", "archive_mirror", help="Where the annotation archive is: a folder from `imagenet-s "
                                                      "download annotations`, or a mirror URL (default: "
                                                      "$IMAGENET_S_MIRROR, else upstream); md5-verified.")
@_cache_dir
def prepare_cmd(imagenet_dir, save_dir, mode, link, workers, val_labels, val_synsets, lists_mirror, archive_mirror,
                cache_dir):
    """Build the official ImageNet-S layout from ImageNet-1k (idempotent, resumable, never overwrites)."""
    for line in dataset.prepare_dataset(imagenet_dir, save_dir, mode, link, workers, val_labels, val_synsets,
                                        lists_mirror, archive_mirror, cache_dir):
        click.echo(line)


@main.command("verify")
@click.option("--root", required=True, type=click.Path(exists=True, file_okay=False),
              help="The --save-dir of `imagenet-s prepare` (or an ImageNetS{N} folder itself).")
@_any_mode
@_lists_mirror
@_cache_dir
def verify_cmd(root, mode, lists_mirror, cache_dir):
    """Check file counts per split and class of a built ImageNet-S folder against the list files."""
    for line in dataset.verify_dataset(root, mode, lists_mirror, cache_dir):
        click.echo(line)
