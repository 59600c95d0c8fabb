"""``aodraw recipes list|check``: the shipped detection recipes and their published AP."""
from __future__ import annotations

import click

from aodraw.recipes import RECIPES, load_latencies
from plumbing.cli import echo_json, echo_recipe_checks, format_option, needs_extra
from plumbing.tables import format_table


@click.group()
def recipes():
    """The published AODRaw detection recipes shipped in aodraw/configs (train with tools/train.py NAME)."""


@recipes.command("list")
@format_option("the recipes (JSON: a list of {name, config, detector, backbone, input, data, published_AP, "
               "variant, latency})")
def list_cmd(output_format):
    """Every recipe with its published test-set AP (-: none published) and, for the real-time track, its measured
    latency (aodraw/configs/latency.json; -: not measured)."""
    latencies = load_latencies()
    if output_format == "json":
        echo_json([r.to_dict(latencies) for r in RECIPES])
        return

    def latency(name):
        entry = latencies.get(name)
        return f"{entry['p50_ms']:.1f} ({entry['device']})" if entry else "-"

    rows = [[r.name, r.detector, r.backbone + (f" ({r.variant})" if r.variant else ""), r.input, r.data,
             "-" if r.published_AP is None else f"{r.published_AP:.1f}", latency(r.name)] for r in RECIPES]
    click.echo(format_table(["name", "detector", "backbone", "input", "data", "published AP", "latency p50 ms"],
                            rows, "AODRaw recipes (AP: AODRaw paper, test set, official metric; latency: batch 1, "
                                  "640 px)", align_left=5))


@recipes.command("check")
@format_option("the report (JSON: a list of {name, ok, params, seconds, error})")
def check_cmd(output_format):
    """Load every shipped config and build its model without weights; one line each."""
    with needs_extra("train"):
        from aodraw.mmdet.launch import check_recipes
    echo_recipe_checks(check_recipes(), output_format, 60)
