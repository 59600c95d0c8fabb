"""``imagenet-s selfsup``: commands over the self-supervised pre-training plug-in (``imagenet_s.selfsup``): export a
backbone, convert a public release checkpoint, search HSSL's auxiliary head. torch/MMPretrain are imported inside
the commands (the core install shows the help without them)."""
from __future__ import annotations

import click

from plumbing.cli import echo_json, format_option, json_option, needs_extra
from plumbing.files import write_json
from plumbing.tables import format_table


@click.group("selfsup")
def selfsup():
    """Self-supervised pre-training (iBOT/DINO, SERE, HSSL, MTE, PR-MIM): backbones for the ImageNet-S and AODRaw
    recipes."""


@selfsup.command("export")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Backbone file to write (BACKBONE.pth).")
@click.option("--which", type=click.Choice(["teacher", "student"]),
              help="The EMA teacher (the published choice for iBOT-style methods) or the student. Default: the "
                   "teacher when the checkpoint has one (iBOT, DINO, SERE, HSSL, MoCo v3, MTE), else the student.")
def export_cmd(checkpoint, out, which):
    """Write the backbone of a pre-training CHECKPOINT as a plain state dict that MMPretrain's VisionTransformer
    (and the ImageNet-S / AODRaw recipes built on it) load strictly."""
    with needs_extra("train"):
        from imagenet_s.selfsup.export import export_backbone
    meta = export_backbone(checkpoint, out, which)
    click.echo(f"{out}: {meta['which']} backbone, {meta['num_tensors']} tensors (from {meta['prefix']}*)")


@selfsup.command("convert-release")
@click.argument("release", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Backbone file to write.")
def convert_release_cmd(release, out):
    """Convert a public DINO/iBOT ViT checkpoint (timm key layout) into the export format (MMPretrain keys)."""
    with needs_extra("train"):
        from imagenet_s.selfsup.export import convert_release_checkpoint
    meta = convert_release_checkpoint(release, out)
    click.echo(f"{out}: {meta['num_tensors']} tensors in MMPretrain's VisionTransformer layout")


@selfsup.command("search-head")
@click.argument("images", type=click.Path(file_okay=False))
@click.option("--candidates", help="Comma-separated candidate heads (default: all; see docs/selfsup.md).")
@click.option("--steps", type=click.IntRange(min=1), default=20, show_default=True,
              help="Proxy pre-training steps per candidate.")
@click.option("--batch-size", type=click.IntRange(min=2), default=8, show_default=True)
@click.option("--image-size", type=click.IntRange(min=16), default=64, show_default=True)
@click.option("--patch-size", type=click.IntRange(min=2), default=16, show_default=True)
@click.option("--arch", default="deit-tiny", show_default=True, help="MMPretrain VisionTransformer arch of the base.")
@click.option("--seed", type=int, default=0, show_default=True)
@json_option()
@format_option("the ranked table")
def search_head_cmd(images, candidates, steps, batch_size, image_size, patch_size, arch, seed, json_out,
                    output_format):
    """Rank HSSL auxiliary-head candidates for a base ViT on the IMAGES folder by a label-free proxy (the feature
    discrepancy between the base and the head after a short proxy pre-training; higher ranks first)."""
    with needs_extra("train"):
        from imagenet_s.selfsup.hssl_search import search_aux_heads
    names = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else None
    result = search_aux_heads(images, names, steps=steps, batch_size=batch_size, image_size=image_size,
                              patch_size=patch_size, arch=arch, seed=seed)
    if json_out:
        write_json(json_out, result)
    if output_format == "json":
        echo_json(result)
        return
    rows = [[r["rank"], r["head"], f"{r['params'] / 1e6:.2f}M", f"{r['discrepancy']:.4f}", f"{r['cka']:.4f}",
             f"{r['loss_first']:.3f} -> {r['loss_last']:.3f}", f"{r['seconds']:.1f}"] for r in result["candidates"]]
    click.echo(format_table(["rank", "head", "params", "discrepancy", "CKA", "proxy loss", "s"], rows,
                            f"HSSL auxiliary heads for {arch} ({result['proxy']}; {steps} steps)", align_left=2))
