"""``aodraw score`` and ``aodraw leaderboard``: submissions scored with the AODRaw protocol (over
``aodraw.submission``/``aodraw.leaderboard``), a CSV table and the static leaderboard site."""
from __future__ import annotations

import click

from aodraw import leaderboard as board
from aodraw.submission import SUBMISSION_PRESETS, score_submission
from evaluators.report import detection_report
from plumbing.archives import ArchiveLimits
from plumbing.cli import echo_notice, json_option, stack
from plumbing.files import write_csv, write_json
from plumbing.site import build_site, check_site_folder
from plumbing.tables import clip, format_table, percent

_DEFAULT = ArchiveLimits()
gt_option = click.option("--gt", required=True, metavar="GT.json",
                         help="COCO ground truth; images may carry a 'tag' list of conditions.")
preset_option = click.option("--preset", type=click.Choice(SUBMISSION_PRESETS), default="aodraw", show_default=True,
                             help="aodraw: downsampled images; aodraw-slice: 1280 px slices.")
limits_options = stack(
    click.option("--max-total-bytes", type=click.IntRange(1), default=_DEFAULT.max_total_bytes, show_default=True,
                 help="Refuse a zip whose members exceed this many bytes uncompressed."),
    click.option("--max-ratio", type=click.FloatRange(1), default=_DEFAULT.max_ratio, show_default=True,
                 help="Refuse a zip member compressed more than this (uncompressed / compressed)."),
)


@click.command("score")
@click.argument("submission")
@gt_option
@preset_option
@json_option("Write the method fields and every number (full precision) as JSON.")
@limits_options
def score(submission, gt, preset, json_out, max_total_bytes, max_ratio):
    """Validate a submission safely (a COCO results .json, or a zip of one plus method.txt; never extracted) and
    score it with the AODRaw protocol: overall, per condition, per category."""
    scored = score_submission(submission, gt, preset, limits=ArchiveLimits(max_total_bytes, max_ratio))
    if json_out:
        write_json(json_out, scored.to_dict())  # before printing: a closed stdout ends the command there
    click.echo(f"method: {scored.method.get('Method name') or '(unnamed)'} | input: "
               f"{scored.method.get('Input') or '?'} | sha256: {scored.sha256[:12]}")
    click.echo(detection_report(scored.result))


@click.command("leaderboard")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@gt_option
@click.option("--out", required=True, metavar="board.csv", help="CSV table to write, one row per submission.")
@click.option("--html", "site", metavar="SITE", type=click.Path(file_okay=False),
              help="Also (re)build the static leaderboard site in this folder (boards of other benchmarks kept).")
@preset_option
@click.option("--cache", help="Folder of cached scores by sha256 (default: DIRECTORY/.scores).")
@limits_options
def leaderboard(directory, gt, out, site, preset, cache, max_total_bytes, max_ratio):
    """Score every submission (.zip or .json) in DIRECTORY once into one table, best AP first; refused ones are
    listed with the reason."""
    if site:
        check_site_folder(site)
    rows = board.leaderboard(directory, gt, preset, cache_dir=cache, notify=echo_notice, plots=site is not None,
                             limits=ArchiveLimits(max_total_bytes, max_ratio))
    columns = board.board_columns(rows)
    write_csv(out, columns, [[row.get(c, "") for c in columns] for row in rows])
    built = build_site(site, [board.site_board(rows, preset)]) if site else None  # files first, then the table
    shown = ("rank", "method", "submission", "input", *board.METRICS, "status")
    click.echo(format_table(shown, [[percent(row[c]) if c in board.METRICS and c in row else clip(row.get(c, ""))
                                     for c in shown] for row in rows],
                            f"AODRaw leaderboard ({preset} preset), values in %", align_left=4, left=("status",)))
    click.echo(f"wrote {out}")
    if built:
        click.echo(f"wrote {built}")
