"""The ``aodraw`` command line, the package's one command-line ring: every command is a few lines over a library
function (``aodraw.*``, ``evaluators.*``); torch and MMDetection are imported only inside the commands that need
them. ``python -m aodraw`` runs the same group; ``tools/*.py`` share its options and error convention."""
from __future__ import annotations

import click

from aodraw.cli.convert import annotations, convert, merge_slices_cmd
from aodraw.cli.data import download_cmd, lock_cmd, verify_cmd
from aodraw.cli.datasets import datasets
from aodraw.cli.evaluate import demo, evaluate, stats
from aodraw.cli.infer import infer
from aodraw.cli.pretrain import pretrain
from aodraw.cli.recipes import recipes
from aodraw.cli.score import leaderboard, score
from plumbing.cli import CONTEXT_SETTINGS, ToolkitGroup


@click.group(cls=ToolkitGroup, context_settings=CONTEXT_SETTINGS)
def main():
    """AODRaw: RAW object detection in diverse conditions -- evaluation, data tools, recipes, pre-training."""


for _command in (evaluate, demo, stats, convert, annotations, merge_slices_cmd, download_cmd, lock_cmd, verify_cmd,
                 recipes, infer, pretrain, score, leaderboard, datasets):
    main.add_command(_command)
