"""``aodraw recipes list|check``: the shipped detection recipes and their published AP."""
from __future__ import annotations

import time

import click
import orjson

from aodraw.recipes import RECIPES
from plumbing.errors import ToolkitError
from plumbing.tables import format_table


@click.group()
def recipes():
    """The published AODRaw detection recipes shipped in aodraw/configs (train with tools/train.py NAME)."""


@recipes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (name, config, detector, backbone, input, "
                                                      "data, published_AP, variant).")
def list_cmd(as_json):
    """Every recipe with its published test-set AP (-: none published)."""
    if as_json:
        click.echo(orjson.dumps([r.to_dict() for r in RECIPES], option=orjson.OPT_INDENT_2).decode())
        return
    rows = [[r.name, r.detector, r.backbone + (f" ({r.variant})" if r.variant else ""), r.input, r.data,
             "-" if r.published_AP is None else f"{r.published_AP:.1f}"] for r in RECIPES]
    click.echo(format_table(["name", "detector", "backbone", "input", "data", "published AP"], rows,
                            "AODRaw recipes (AP: AODRaw paper, test set, official metric)", align_left=5))


@recipes.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list (name, ok, params, seconds, error).")
def check_cmd(as_json):
    """Load every shipped config and build its model without weights; one line each."""
    try:
        from mmengine.logging import MMLogger

        from aodraw.mmdet.launch import build_detector
    except ImportError as exc:
        raise ToolkitError(f"the train extra is needed ({exc}); pip install 'rawseg-bench[train]'") from None
    MMLogger.get_instance("aodraw-recipes-check", log_level="ERROR")  # the current logger: no init chatter
    report = []
    for recipe in RECIPES:
        start = time.perf_counter()
        try:
            model = build_detector(str(recipe.config))
            entry = {"name": recipe.name, "ok": True, "params": sum(p.numel() for p in model.parameters()),
                     "error": None}
        except Exception as exc:  # noqa: BLE001 -- every failure is reported on its recipe's line
            entry = {"name": recipe.name, "ok": False, "params": None,
                     "error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
        entry["seconds"] = round(time.perf_counter() - start, 2)
        report.append(entry)
        if not as_json:
            status = f"ok    {entry['params'] / 1e6:6.1f} M params" if entry["ok"] else f"FAIL  {entry['error']}"
            click.echo(f"{recipe.name:60s} {status}  ({entry['seconds']:.1f} s)")
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    failed = [e["name"] for e in report if not e["ok"]]
    if failed:
        raise ToolkitError(f"{len(failed)} of {len(report)} recipes failed to build: {', '.join(failed)}")
