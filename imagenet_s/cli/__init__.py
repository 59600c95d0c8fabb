"""The ``imagenet-s`` command line, the package's one command-line ring: every command is a few lines over a library
function (``imagenet_s.*``, ``evaluators.luss``); torch and MMSegmentation are imported only inside the commands that
need them. ``python -m imagenet_s`` runs the same group."""
from __future__ import annotations

import click

from imagenet_s.cli.data import download, prepare_cmd, verify_cmd
from imagenet_s.cli.infer import infer
from imagenet_s.cli.pass_cmd import pass_group
from imagenet_s.cli.recipes import recipes
from imagenet_s.cli.score import evaluate_cmd, leaderboard_cmd, match_cmd, merge_cmd, score_cmd
from imagenet_s.cli.selfsup import selfsup
from imagenet_s.cli.sweep import sweep_cmd
from plumbing.cli import CONTEXT_SETTINGS, ToolkitGroup


@click.group(cls=ToolkitGroup, context_settings=CONTEXT_SETTINGS)
def main():
    """ImageNet-S (large-scale unsupervised semantic segmentation): matching, evaluation, submissions, recipes."""


for _command in (match_cmd, evaluate_cmd, sweep_cmd, merge_cmd, score_cmd, leaderboard_cmd, download, prepare_cmd,
                 verify_cmd, recipes, infer, pass_group, selfsup):
    main.add_command(_command)
