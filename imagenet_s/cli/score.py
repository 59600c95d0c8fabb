"""Scoring commands: ``match``, ``evaluate``, ``merge``, ``score``, ``leaderboard`` (over ``evaluators.luss`` and
``imagenet_s.submission``/``leaderboard``)."""
from __future__ import annotations

import click

from evaluators.luss import folders, matching, report, state
from evaluators.luss.metrics import LUSSEvaluator
from imagenet_s import leaderboard, submission
from imagenet_s.cli import options as opt
from plumbing.cli import echo_notice
from plumbing.errors import BadInputError
from plumbing.files import write_csv, write_json
from plumbing.site import build_site, check_site_folder
from plumbing.tables import clip, format_table


def _shard_of(shard: tuple[int, int] | None, save_state: str | None):
    if shard is not None and save_state is None:
        raise BadInputError("--shard needs --save-state FILE (merge the shards with `imagenet-s merge`)")
    return shard




@click.command("match")
@opt.gt_dir
@opt.pred_dir
@opt.mode
@click.option("--out", help="Match file to write: {\"label\": class} with keys \"0\"..\"N\".")
@opt.names
@opt.workers
@opt.shard
@opt.save_state
def match_cmd(gt_dir, pred_dir, mode, out, names_file, workers, shard, save_state):
    """Fit the official Hungarian matching of predicted labels to classes (fully unsupervised protocol)."""
    shard_k_n = _shard_of(shard, save_state)
    if out is None and save_state is None:
        raise BadInputError("match: give --out MATCH.json (or --save-state for a shard)")
    if out is not None and shard_k_n is not None:
        raise BadInputError("match: --out needs every image; merge the shards' states with `imagenet-s merge`")
    counter = folders.accumulate_matching(gt_dir, pred_dir, int(mode), names=opt.names_of(names_file),
                                          shard=shard_k_n, workers=workers)
    if save_state:
        state.save_state(save_state, counter, shard=shard_k_n)
    if out:
        _write_match(counter, out)
    if save_state:
        click.echo(f"wrote matching state of {counter.num_images} images to {save_state}")


def _write_match(counter: matching.MatchCounter, out: str) -> None:
    match = counter.match()
    matching.write_match(out, match)
    moved = sum(1 for k, v in match.items() if k != v)
    click.echo(f"matched {counter.num_classes} labels over {counter.num_images} images "
               f"(munkres {matching.munkres_version()}; {moved} labels renamed) -> {out}")


@click.command("evaluate")
@opt.gt_dir
@opt.pred_dir
@opt.mode
@click.option("--match", "match_file", help="Match file (official format) applied to the predictions first.")
@opt.names
@opt.categories
@opt.json
@opt.csv
@opt.workers
@opt.shard
@opt.save_state
def evaluate_cmd(gt_dir, pred_dir, mode, match_file, names_file, categories, json_out, csv_out, workers, shard,
                 save_state):
    """Score predicted masks with the official LUSS metrics (mIoU, Acc, mBIoU, sizes, FMeasure)."""
    num_classes = int(mode)
    shard_k_n = _shard_of(shard, save_state)
    wnids = opt.wnids_of(categories, num_classes)
    match = None if match_file is None else matching.read_match(match_file, num_classes)
    evaluator = folders.accumulate_evaluation(gt_dir, pred_dir, num_classes, match, names=opt.names_of(names_file),
                                              shard=shard_k_n, workers=workers)
    if save_state:
        state.save_state(save_state, evaluator, shard=shard_k_n, match=match)
        click.echo(f"wrote evaluation state of {evaluator.num_images} images to {save_state}")
    if evaluator.num_images:
        opt.show_result(evaluator.compute(), wnids, json_out, csv_out)


@click.command("merge")
@click.argument("states", nargs=-1, required=True)
@click.option("--out", help="Match file to write (states of `match --shard`).")
@opt.categories
@opt.json
@opt.csv
def merge_cmd(states, out, categories, json_out, csv_out):
    """Merge the state files of sharded `match` or `evaluate` runs into one result."""
    merged, _meta = state.merge_states(list(states))
    if isinstance(merged, LUSSEvaluator):
        if out:
            raise BadInputError("merge: --out is for matching states; these are evaluation states (use --json)")
        opt.show_result(merged.compute(), opt.wnids_of(categories, merged.num_classes), json_out, csv_out)
    else:
        if not out:
            raise BadInputError("merge: these are matching states; give --out MATCH.json")
        _write_match(merged, out)


@click.command("score")
@click.argument("archive")
@opt.gt_dir
@opt.mode
@opt.names
@opt.json
@opt.workers
@opt.limits
def score_cmd(archive, gt_dir, mode, names_file, json_out, workers, max_total_bytes, max_ratio, max_pixels):
    """Validate a submission zip safely (never extracted), then match if needed and evaluate it."""
    limits = submission.Limits(max_total_bytes, max_ratio, max_pixels)
    scored = submission.score_submission(archive, gt_dir, int(mode), names=opt.names_of(names_file), limits=limits,
                                         workers=workers, notify=echo_notice)
    if json_out:
        write_json(json_out, scored.to_dict())  # before printing: a closed stdout ends the command there
    click.echo(f"method: {scored.method.get('Method name') or '(unnamed)'}")
    click.echo(report.summary_table(scored.result))


@click.command("leaderboard")
@click.argument("directory")
@opt.gt_dir
@opt.mode
@click.option("--out", required=True, help="CSV table to write, one row per archive, best mIoU first.")
@click.option("--cache", help="Folder of cached scores by archive sha256 (default: DIRECTORY/.scores).")
@click.option("--html", "site", metavar="SITE", type=click.Path(file_okay=False),
              help="Also (re)build the static leaderboard site in this folder (boards of other benchmarks kept).")
@opt.names
@opt.workers
@opt.limits
def leaderboard_cmd(directory, gt_dir, mode, out, cache, site, names_file, workers, max_total_bytes, max_ratio,
                    max_pixels):
    """Score every submission zip in DIRECTORY into one table (refused archives are listed with the reason)."""
    if site:
        check_site_folder(site)
    limits = submission.Limits(max_total_bytes, max_ratio, max_pixels)
    rows = leaderboard.leaderboard(directory, gt_dir, int(mode), cache_dir=cache, names=opt.names_of(names_file),
                                   limits=limits, workers=workers, notify=echo_notice, plots=site is not None)
    write_csv(out, leaderboard.BOARD_COLUMNS, [[row.get(c, "") for c in leaderboard.BOARD_COLUMNS] for row in rows])
    built = build_site(site, [leaderboard.site_board(rows, int(mode))]) if site else None  # files, then the table
    shown = ("rank", "method", "archive", "match", "mIoU", "Acc", "mBIoU", "FMeasure", "status")
    metrics = ("mIoU", "Acc", "mBIoU", "FMeasure")
    click.echo(format_table(shown, [[f"{row[c]:.2f}" if c in metrics and isinstance(row.get(c), float)
                                     else clip(row.get(c, "")) for c in shown] for row in rows],
                            f"ImageNet-S-{mode} leaderboard, values in %", align_left=4, left=("status",)))
    click.echo(f"wrote {out}")
    if built:
        click.echo(f"wrote {built}")
