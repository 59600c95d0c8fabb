"""``imagenet-s pass ...``: the PASS baseline's stages (library: ``imagenet_s/pass/``, configs:
``imagenet_s/configs/pass/``). ``finetune`` and ``infer`` are thin wrappers over the ImageNet-S MMSegmentation
plug-in (``imagenet_s.mmseg.launch``, ``imagenet_s.mmseg.infer``) running the MMSegmentation config named by the PASS
config's ``finetune.config``. Torch is imported inside each command only."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click

from plumbing.cli import ToolkitGroup, echo_notice, needs_extra, shard_option
from plumbing.errors import BadInputError

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "pass"


def _stage(module: str):
    with needs_extra("train"):
        return importlib.import_module(f"imagenet_s.pass.{module}")  # "pass" is a keyword: no plain import


def load_config(config: str, overrides: tuple[str, ...] = ()) -> dict:
    """A PASS config as a plain dict: a file path or a shipped name (``pass_r18_luss50``), with ``key=value``
    overrides (dotted keys, Python literals). Raises BadInputError for an unknown config or a bad override."""
    with needs_extra("train"):
        from mmengine.config import Config
    path = Path(config)
    if not path.is_file():
        path = CONFIGS / (config if config.endswith(".py") else config + ".py")
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in CONFIGS.glob("pass_*.py")))
        raise BadInputError(f"config {config!r}: no such file or shipped config ({shipped})")
    cfg = Config.fromfile(str(path))
    current = cfg.to_dict()
    updates = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise BadInputError(f"--cfg-options {item!r}: expected key=value")
        updates[key] = _override(current, key, value, str(path))
    cfg.merge_from_dict(updates)
    return cfg.to_dict()


def _override(cfg: dict, key: str, text: str, source: str):
    """The value of ``--cfg-options key=text`` for a PASS config: the key must exist (a typo is an error, not a new
    key nobody reads) and the value must be a Python literal of the existing value's type (an int where a float is,
    any literal where the config holds None)."""
    node = cfg
    parts = key.split(".")
    for depth, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            known = ", ".join(sorted(node)) if isinstance(node, dict) else "none: not a section"
            raise BadInputError(f"--cfg-options {key}: {source} has no key {'.'.join(parts[:depth + 1])!r} "
                                f"(keys there: {known})")
        node = node[part]
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        if not isinstance(node, str) and node is not None:
            raise BadInputError(f"--cfg-options {key}={text}: not a Python literal (the config has "
                                f"{node!r})") from None
        value = text
    if node is None or isinstance(value, type(node)) or (isinstance(node, float) and isinstance(value, int)):
        return value
    if isinstance(node, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(node)(value)
    raise BadInputError(f"--cfg-options {key}={text}: expected a {type(node).__name__} (the config has {node!r})")


def finetune_config_path(cfg: dict) -> str:
    """The MMSegmentation config of a PASS config's finetune stage: ``finetune.config``, a file path or a name
    beside the shipped PASS configs. Raises BadInputError when it names neither."""
    name = str(cfg["finetune"]["config"])
    for path in (Path(name), CONFIGS / name):
        if path.is_file():
            return str(path)
    raise BadInputError(f"finetune.config {name!r}: no such file (here or in {CONFIGS})")


config_arg = click.argument("config")
data_root = click.option("--data-root", required=True, type=click.Path(file_okay=False),
                         help="ImageNet-S subset folder (train/, train-semi/, validation/ ...).")
work_dir = click.option("--work-dir", required=True, type=click.Path(file_okay=False),
                        help="Folder of this run's stage outputs (pretrain.pth, attention.pth, cluster/ ...).")
cfg_options = click.option("--cfg-options", multiple=True, metavar="KEY=VALUE",
                           help="Override a config key (dotted, Python literal), e.g. pretrain.epochs=1.")
split = click.option("--split", default="validation", show_default=True,
                     help="Split folder to label: train, validation or test.")
out = click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder of PNG masks.")
shard = shard_option("the sorted images (one process or node per shard)")


@click.group("pass", cls=ToolkitGroup)
def pass_group():
    """PASS, the LUSS paper's baseline: pretrain -> pixel-attention -> cluster -> pseudo-label -> (imagenet-s sweep)
    -> finetune -> infer, and distance-match. Each stage reads the previous one's files in --work-dir and skips
    work already done; thresholds are fractions (upstream's evaluator takes percents: 37 there is 0.37 here)."""


@pass_group.command("pretrain")
@config_arg
@data_root
@work_dir
@cfg_options
def pretrain_cmd(config, data_root, work_dir, cfg_options):
    """Self-supervised pre-training on train/ (pixel-to-pixel alignment, SwAV prototypes, Sinkhorn-Knopp eps 0.05,
    3 iterations, temperature 0.1, multi-crop, deep-to-shallow supervision). Writes WORK/pretrain.pth; resumes
    from WORK/pretrain_latest.pth. Under torchrun it trains distributed."""
    cfg = load_config(config, cfg_options)
    _stage("train").run_stage("pretrain", cfg, data_root, work_dir, log=echo_notice)


@pass_group.command("pixel-attention")
@config_arg
@data_root
@work_dir
@cfg_options
def attention_cmd(config, data_root, work_dir, cfg_options):
    """Fine-tune the foreground attention head (and prototypes) from WORK/pretrain.pth on train/ with the
    image-level SwAV loss of attention-pooled embeddings. Writes WORK/attention.pth."""
    cfg = load_config(config, cfg_options)
    work = Path(work_dir)
    _stage("train").run_stage("attention", cfg, data_root, work, init=work / "pretrain.pth", log=echo_notice)


@pass_group.command("cluster")
@config_arg
@data_root
@work_dir
@cfg_options
def cluster_cmd(config, data_root, work_dir, cfg_options):
    """k-means (K = classes; faiss, 20 iterations x 30 restarts by default) of the image embeddings of train/
    (resize 256, centre crop 224). Writes WORK/cluster/{centroids.npy, labels.txt, metrics.json}; prints train NMI
    and Hungarian accuracy."""
    cfg = load_config(config, cfg_options)
    _stage("cluster").run_cluster(cfg, data_root, work_dir, log=echo_notice)


@pass_group.command("pseudo-label")
@config_arg
@data_root
@work_dir
@split
@out
@click.option("--threshold", type=float, help="Attention threshold t, a fraction in [0, 1] [default: the config's "
                                             "pseudo.threshold; use 0 with --save-attention for a sweep].")
@click.option("--save-attention", is_flag=True, help="Also write NAME.npy (float32 H x W attention) beside each "
                                                     "PNG, for `imagenet-s sweep`.")
@shard
@cfg_options
def pseudo_cmd(config, data_root, work_dir, split, out, threshold, save_attention, shard, cfg_options):
    """Per-pixel labels: nearest centroid (cosine) + 1, 0 where the attention is below the threshold.
    Writes OUT/wnid/name.png (+ name.npy)."""
    cfg = load_config(config, cfg_options)
    t = cfg["pseudo"]["threshold"] if threshold is None else threshold
    _stage("pseudo_label").run_pseudo_label(cfg, data_root, work_dir, split, out, t, save_attention=save_attention,
                                            shard=shard, log=echo_notice)


@pass_group.command("finetune")
@config_arg
@data_root
@work_dir
@click.option("--pseudo", "pseudo_dir", required=True, type=click.Path(file_okay=False),
              help="Pseudo labels of train/ from `pass pseudo-label --split train`.")
@cfg_options
def finetune_cmd(config, data_root, work_dir, pseudo_dir, cfg_options):
    """Train the segmentation network (the backbone of WORK/pretrain.pth, loaded strictly, + a 1x1 head to N + 1
    classes) on the pseudo labels: the MMSegmentation config finetune.config (upstream's settings) on the plug-in's
    ImageNetSDataset split 'train' with the pseudo labels as masks. Logs and checkpoints in WORK/finetune/ (an
    interrupted run resumes from the newest); writes WORK/finetune.pth. Under torchrun it trains distributed."""
    cfg = load_config(config, cfg_options)
    work = Path(work_dir)
    final = work / "finetune.pth"
    if final.is_file():
        click.echo(f"{final} exists: finetune already done")
        return
    with needs_extra("train"):
        from imagenet_s.mmseg.launch import pseudo_label_config, train_resumable
    seg = pseudo_label_config(finetune_config_path(cfg), data_root, pseudo_dir, work / "finetune",
                              backbone_checkpoint=work / "pretrain.pth",
                              cfg_options=dict(cfg["finetune"].get("cfg_options") or {}))
    train_resumable(seg, final)
    click.echo(f"finetune: {final}")


@pass_group.command("infer")
@config_arg
@data_root
@work_dir
@split
@out
@click.option("--match", "match_file", help="match.json (official format, e.g. the sweep's best match) applied "
                                            "to the predicted labels.")
@click.option("--zip", "zip_path", help="Also pack the predictions into a submission zip.")
@shard
@cfg_options
def infer_cmd(config, data_root, work_dir, split, out, match_file, zip_path, shard, cfg_options):
    """Predict split/ (validation or test) with WORK/finetune.pth into the submission format (OUT/wnid/name.png,
    labels mapped through --match, OUT/method.txt, optionally the zip): `imagenet-s infer` on the finetune config."""
    cfg = load_config(config, cfg_options)
    with needs_extra("train"):
        from imagenet_s.mmseg.infer import run_inference
    from imagenet_s.submission import METHOD_FIELDS

    method = dict(zip(METHOD_FIELDS, ("PASS", "ImageNet-S train (no labels)", "fully unsupervised",
                                      cfg["model"]["arch"], "https://github.com/LUSSeg/PASS",
                                      "PASS pseudo labels, fine-tuned, labels matched with the sweep's match")))
    summary = run_inference(finetune_config_path(cfg), str(Path(work_dir) / "finetune.pth"), data_root,
                            int(cfg["num_classes"]), split, out, zip_path=zip_path, method=method, shard=shard,
                            match=match_file, workers=int(cfg.get("workers", 0)), progress=False)
    click.echo(f"inference: {summary['images']} images of {split} -> {out}" + (f", zip {zip_path}" if zip_path else ""))


@pass_group.command("distance-match")
@config_arg
@data_root
@work_dir
@split
@out
@click.option("--checkpoint", help="Model to embed with [default: WORK/attention.pth].")
@shard
@cfg_options
def distance_cmd(config, data_root, work_dir, split, out, checkpoint, shard, cfg_options):
    """Distance matching: a bank of per-image, per-class mask-averaged features of train-semi/ (with
    train-semi-segmentation/), then weighted k-NN per pixel (k 10, T 0.07). Writes OUT/wnid/name.png and
    OUT/method.txt; score with `imagenet-s score` after zipping."""
    cfg = load_config(config, cfg_options)
    _stage("distance_match").run_distance_match(cfg, data_root, work_dir, split, out, checkpoint=checkpoint,
                                                shard=shard, log=echo_notice)

