"""``imagenet-s infer``: a trained segmentor over a validation or test split, official PNGs and a submission zip out
(the library is ``imagenet_s.mmseg.infer``; torch and MMSegmentation are imported only when the command runs)."""
from __future__ import annotations

import click

from imagenet_s.cli import options as opt
from imagenet_s.submission import METHOD_FIELDS
from plumbing.cli import needs_extra, shard_option


@click.command("infer")
@click.argument("config")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--data-root", required=True, type=click.Path(file_okay=False),
              help="The built tree (ROOT/ImageNetS{N} or that folder itself, as `imagenet-s prepare` makes it).")
@opt.mode
@click.option("--split", type=click.Choice(["validation", "test"]), required=True, help="The split to predict.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for the predictions (OUT/wnid/NAME.png, official encoding and size) and method.txt.")
@click.option("--zip", "zip_path", metavar="SUB.zip", type=click.Path(dir_okay=False),
              help="Also write the submission zip (PNGs at the root, method.txt, identity match.json) that "
                   "`imagenet-s score` accepts as it is.")
@click.option("--method", "method_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="method.txt to include (the six 'Field: value' lines); without it the fields are asked for "
                   "(left empty when not at a terminal).")
@click.option("--match", "match_file", metavar="MATCH.json", type=click.Path(dir_okay=False),
              help="An official match.json (e.g. `imagenet-s sweep`'s best match) applied to the predicted labels "
                   "before they are written (fully unsupervised models: clusters -> classes).")
@click.option("--batch-size", type=click.IntRange(1), default=1, show_default=True,
              help="Images per forward pass (batches hold one prepared size: nothing is padded).")
@click.option("--amp", type=click.Choice(["bf16", "fp16", "off"]), default=None,
              help="Mixed precision (torch.autocast). Default: bf16 on CUDA (fp16 where bf16 is unsupported), off on "
                   "the CPU, where bf16 is allowed and fp16 refused.")
@click.option("--device", type=click.Choice(["cuda", "cpu"]), default=None,
              help="Default: cuda when available, else cpu. CUDA runs channels-last with pinned-memory loading.")
@click.option("--workers", type=click.IntRange(0), default=None,
              help="Loader worker processes (0: load in this process) [default: CPU count, at most 8].")
@shard_option("the split's sorted images")
@click.option("--report", metavar="REPORT.json", type=click.Path(dir_okay=False),
              help="Also write the speed report (images/s, latency p50/p95, peak memory) as JSON.")
def infer(config, checkpoint, data_root, mode, split, out, zip_path, method_file, match_file, batch_size, amp, device,
          workers, shard, report):
    """Predict an ImageNet-S split with a trained segmentor, write official PNGs (resumable) and a submission.

    CONFIG is a config file or a shipped recipe name, CHECKPOINT its weights (loaded strictly). Evaluation follows
    the protocol: whole image, shorter side 256 (the config's test pipeline), logits upsampled to the original size,
    images over 1000^2 pixels through a longer side of 1000. Prints a speed report."""
    method = method_file
    if method is None:
        interactive = click.get_text_stream("stdin").isatty()
        method = {f: (click.prompt(f, default="", show_default=False) if interactive else "") for f in METHOD_FIELDS}
    with needs_extra("train"):
        from imagenet_s.mmseg.infer import report_table, run_inference
    summary = run_inference(config, checkpoint, data_root, int(mode), split, out, zip_path=zip_path, method=method,
                            batch_size=batch_size, amp=amp, device=device, workers=workers, shard=shard,
                            report=report, match=match_file)
    click.echo(report_table(summary))
    click.echo(f"wrote {summary['images']} predictions to {out}" + (f" and {zip_path}" if zip_path else ""),
               err=True)
