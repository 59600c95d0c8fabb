"""``aodraw download``, ``aodraw lock`` and ``aodraw verify``: getting the data and checking a local copy."""
from __future__ import annotations

import click

from aodraw.download import FOLDERS, download_annotations, instructions
from plumbing.cli import download_options
from plumbing.errors import ToolkitError
from plumbing.files import write_json
from plumbing.jsonio import read_json
from plumbing.tables import format_table


@click.command("lock")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, metavar="LOCK.json", help="Lock file to write (sha256 and size per file).")
def lock_cmd(root, out):
    """Record sha256 and size of every file of a local AODRaw copy (upstream publishes no checksums)."""
    from aodraw.dataset_check import lock

    doc = lock(root)
    write_json(out, doc)
    click.echo(f"wrote {out}: {len(doc['files'])} files")


@click.command("verify")
@click.argument("root", type=click.Path(exists=True, file_okay=False))
@click.option("--lock", "lock_file", metavar="LOCK.json", help="Also compare every file with this lock (exact).")
def verify_cmd(root, lock_file):
    """Check an AODRaw copy: per-folder completeness, annotated images present, annotation consistency."""
    from aodraw.dataset_check import verify

    rows, notes, problems = verify(root, read_json(lock_file, "lock")[0] if lock_file else None)
    click.echo(format_table(("folder", "published size", "files", "found", "status"), rows))
    for problem in notes + problems:
        click.echo(problem)
    if problems:
        raise ToolkitError(f"{root}: {len(problems)} problems (see above)")
    click.echo("no problems found")


@click.command("download")
@click.argument("what", type=click.Choice(list(FOLDERS)))
@click.option("--root", required=True, type=click.Path(file_okay=False), help="The AODRaw root folder.")
@download_options("AODRAW_MIRROR")
def download_cmd(what, root, mirror, cache_dir, retries, timeout):
    """Get an AODRaw folder: annotations through Google Drive (or a mirror); for the image folders, which upstream
    offers only through browser mirrors, print where to get them."""
    if what != "annotations":
        for line in instructions(what, root):
            click.echo(line)
        return
    click.echo(download_annotations(root, mirror, cache_dir=cache_dir, retries=retries, timeout=timeout))
