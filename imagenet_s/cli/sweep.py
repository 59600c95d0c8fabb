"""``imagenet-s sweep``: the PASS evaluator's attention-threshold curve (over ``evaluators.luss.sweep``)."""
from __future__ import annotations

import click

from evaluators.luss import report, sweep
from evaluators.luss.metrics import METRIC_KEYS
from imagenet_s.cli import options as opt
from plumbing.files import write_csv, write_json

_fraction = click.FloatRange(0.0, None)


@click.command("sweep")
@opt.gt_dir
@click.option("--pred-dir", required=True, help="Predicted PNG masks with the attention map NAME.npy (float32, "
                                                "H x W) beside each NAME.png, as PASS's test mode writes them.")
@opt.mode
@opt.names
@click.option("--min", "minimum", type=_fraction, default=sweep.DEFAULT_MIN, show_default=True,
              help="Lowest threshold, a fraction (upstream's evaluator takes percents: its 37 is 0.37 here).")
@click.option("--max", "maximum", type=_fraction, default=sweep.DEFAULT_MAX, show_default=True,
              help="Highest threshold (inclusive), a fraction.")
@click.option("--step", type=click.FloatRange(0.0, None, min_open=True), default=sweep.DEFAULT_STEP,
              show_default=True, help="Threshold step, a fraction.")
@opt.json
@click.option("--csv", "csv_out", help="Write the curve as CSV: threshold and the official metrics (percent).")
@click.option("--plot", help="Write a PNG of mIoU and FMeasure against the threshold, the best point marked.")
@opt.workers
def sweep_cmd(gt_dir, pred_dir, mode, names_file, minimum, maximum, step, json_out, csv_out, plot, workers):
    """Score PASS predictions at every attention threshold as the PASS evaluator does: per threshold t (a fraction),
    pixels whose attention is below t become background, the image-level matching is refitted and the official
    metrics are computed; prints the curve and the best mIoU with its threshold. --json writes {"mode",
    "thresholds", "curve": [{"threshold", metrics...}], "best": {..., "match"}} (metrics in percent)."""
    thresholds = sweep.threshold_grid(minimum, maximum, step)
    result = sweep.sweep_folders(gt_dir, pred_dir, int(mode), thresholds, names=opt.names_of(names_file),
                                 workers=workers)
    data = result.to_dict()
    if json_out:
        write_json(json_out, data)
    if csv_out:
        write_csv(csv_out, ("threshold", *METRIC_KEYS),
                  [[row["threshold"], *(row[k] for k in METRIC_KEYS)] for row in data["curve"]])
    if plot:
        report.plot_sweep(data["curve"], data["best"], plot, f"PASS threshold sweep, ImageNet-S-{mode}")
    click.echo(report.sweep_table(data["curve"]))
    best = data["best"]
    click.echo(f"best: threshold {best['threshold']:.4g} (fraction), mIoU {best['mIoU']:.2f}, "
               f"Acc {best['Acc']:.2f}, FMeasure {best['FMeasure']:.2f} over {result.results[0].num_images} images")
