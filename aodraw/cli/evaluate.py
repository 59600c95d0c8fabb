"""``aodraw evaluate``, ``aodraw stats`` and ``aodraw demo``: scoring detections and describing annotation files."""
from __future__ import annotations

from pathlib import Path

import click

from evaluators.detection import PRESETS, evaluate_detections
from evaluators.detection.engines import BACKENDS
from evaluators.detection.presets import PROTOCOLS
from evaluators.report import detection_report, detection_rows, plot_detection
from plumbing.cli import json_option
from plumbing.files import write_csv, write_json
from plumbing.tables import format_table, percent


@click.command()
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
@json_option("Write every number (full precision) as JSON.")
@click.option("--csv", "csv_out", metavar="OUT.csv", help="Write every number as long-format CSV.")
@click.option("--plots", "plots_dir", metavar="DIR", help="Write PR curves per condition and an AP bar chart.")
@click.option("--errors", is_flag=True, help="Add the TIDE error breakdown (classification, localisation, ...).")
def evaluate(gt, dt, preset, backend, protocol, json_out, csv_out, plots_dir, errors):
    """Score detections: overall COCO metrics, per condition tag (and tag combination), per category."""
    result = evaluate_detections(gt, dt, preset=preset, backend=backend, protocol=protocol, errors=errors)
    write_outputs(result, json_out, csv_out, plots_dir)  # files first: a closed stdout ends the command quietly
    click.echo(detection_report(result))


@click.command()
@click.option("--out", default="demo_out", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the synthetic data and the results.")
@click.option("--images", default=400, show_default=True, type=click.IntRange(1), help="Synthetic test images.")
@click.option("--seed", default=0, show_default=True, type=int)
def demo(out, images, seed):
    """Convert a small synthetic RAW set (downsample, slice, merge-back), then generate a synthetic AODRaw-style
    test set and detections and evaluate them (AODRaw protocol); last, score a few perturbed copies of the detections
    as submissions into a leaderboard and its static site (OUT/leaderboard/index.html)."""
    from aodraw.demo import leaderboard_demo, run_demo

    lines, result = run_demo(out, images, seed)
    out = Path(out)
    write_outputs(result, out / "results.json", out / "results.csv", out / "plots")
    board_lines = leaderboard_demo(out, seed)  # every file written before anything is printed
    for line in lines:
        click.echo(line)
    click.echo(format_table(["condition", "AP", "AP50", "AP75", "images"],
                            [[n, percent(c["AP"]), percent(c["AP50"]), percent(c["AP75"]), c["num_images"]]
                             for n, c in result.conditions.items()],
                            f"AODRaw protocol ({result.protocol}), per condition, values in %"))
    for line in board_lines:
        click.echo(line)


@click.command()
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


def write_outputs(result, json_out, csv_out, plots_dir) -> None:
    """Write the result's JSON, long-format CSV and plots where asked, naming each written file on stderr."""
    written = []
    if json_out:
        written.append(write_json(json_out, result.to_dict()))
    if csv_out:
        written.append(write_csv(csv_out, ["scope", "name", "metric", "value"], detection_rows(result)))
    if plots_dir:
        written += plot_detection(result, plots_dir)
    for path in written:
        click.echo(f"wrote {path}", err=True)
