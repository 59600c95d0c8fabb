"""The download options shared by ``aodraw download`` and ``imagenet-s download``."""
from __future__ import annotations

import click


def download_options(env: str):
    """``--mirror`` (default ``$env``), ``--cache-dir``, ``--retries``, ``--timeout``."""
    options = (
        click.option("--mirror", help=f"Mirror with the upstream layout: http(s):// URL, file:// URL or folder "
                                      f"(default: ${env}, else upstream)."),
        click.option("--cache-dir", type=click.Path(file_okay=False),
                     help="Download cache (default: ~/.cache/rawseg-bench)."),
        click.option("--retries", type=click.IntRange(min=0), default=4, show_default=True,
                     help="Retries per source on transient failures (exponential backoff)."),
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=60.0, show_default=True,
                     help="Seconds without data before a connection counts as failed."))

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
