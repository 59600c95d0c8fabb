"""``imagenet-s recipes list|check``: the shipped semi-supervised segmentation recipes and their published mIoU."""
from __future__ import annotations

import click

from imagenet_s.recipes import RECIPES
from plumbing.cli import echo_json, echo_recipe_checks, format_option, needs_extra
from plumbing.tables import format_table


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@click.group()
def recipes():
    """The semi-supervised ImageNet-S recipes shipped in imagenet_s/configs (train with tools/train.py NAME)."""


@recipes.command("list")
@format_option("the recipes (JSON: a list of {name, config, backbone, pretraining, scheme, mode, "
               "published_mIoU_val, published_mIoU_test, checkpoint_layout})")
def list_cmd(output_format):
    """Every recipe with its published val/test mIoU (-: none published; the protocol publishes 919 only)."""
    if output_format == "json":
        echo_json([r.to_dict() for r in RECIPES])
        return
    rows = [[r.name, r.backbone, r.pretraining, r.scheme, r.mode, _number(r.published_mIoU_val),
             _number(r.published_mIoU_test)] for r in RECIPES]
    click.echo(format_table(["name", "backbone", "pre-training", "scheme", "mode", "val mIoU", "test mIoU"], rows,
                            "ImageNet-S semi-supervised recipes (mIoU: official metric, percent)", align_left=4))


@recipes.command("check")
@format_option("the report (JSON: a list of {name, ok, params, seconds, error})")
def check_cmd(output_format):
    """Load every shipped config and build its model without weights; one line each."""
    with needs_extra("train"):
        from imagenet_s.mmseg.launch import check_recipes
    echo_recipe_checks(check_recipes(), output_format, 50)
