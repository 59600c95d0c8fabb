"""The ``imagenet-s`` command line: a thin layer over ``imagenet_s`` and ``evaluators.luss``."""
from __future__ import annotations

import click

from evaluators.errors import ToolkitGroup


@click.group(cls=ToolkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """ImageNet-S (large-scale unsupervised semantic segmentation): matching, evaluation, submissions."""
