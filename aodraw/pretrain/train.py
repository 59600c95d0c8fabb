"""The distillation trainer (plain torch; DDP when started by torchrun).

One step: the frozen teacher sees the sRGB crops, the student the synthetic RAW of the same crops; the loss
(``losses.distillation_loss``) is averaged over ``accum_steps`` micro-batches before the optimizer step. AMP on
GPUs (bfloat16 where supported, else float16 with a gradient scaler). ``WORK_DIR/latest.pth`` is written atomically
every ``save_interval`` steps and at the end; a rerun resumes from it (same step count, same data order).
Several GPUs: ``torchrun --nproc-per-node N -m aodraw pretrain train CONFIG``.
"""
from __future__ import annotations

import io
import json
import math
import os
import time
from pathlib import Path

import torch
import torch.distributed as dist
from tqdm import tqdm

from aodraw.pretrain.camera import read_camera
from aodraw.pretrain.data import DistillationDataset
from aodraw.pretrain.losses import distillation_loss
from aodraw.pretrain.models import Classifier, load_classifier
from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes

DEFAULTS = {
    "seed": 0, "amp": True, "log_interval": 50, "save_interval": 1000, "student_init": "teacher",
    "loss": {"ce": 1.0, "kl": 1.0, "temperature": 2.0, "feature": 1.0, "feature_type": "mse",
             "feature_stages": [-1]},
    "optimizer": {"type": "AdamW", "lr": 1e-4, "weight_decay": 0.05},
    "schedule": {"max_steps": 1000, "warmup_steps": 0, "accum_steps": 1},
    "data": {"camera": None, "crop_size": 224, "scale": [0.08, 1.0], "batch_size": 32, "num_workers": 4},
}
REQUIRED = ("work_dir", "data.root", "model.backbone", "model.num_classes", "model.teacher_checkpoint")


def load_config(path: str | os.PathLike, options=(), work_dir: str | None = None) -> dict:
    """A config file (MMEngine syntax) with ``KEY=VALUE`` overrides, merged over ``DEFAULTS``, as a plain dict."""
    from mmengine.config import Config, DictAction

    if not Path(path).is_file():
        raise BadInputError(f"{path}: config file not found")
    cfg = Config.fromfile(os.fspath(path))
    for option in options:
        key, sep, value = option.partition("=")
        if not sep:
            raise BadInputError(f"--cfg-options: expected KEY=VALUE, got {option!r}")
        cfg.merge_from_dict({key: DictAction._parse_iterable(value)})
    if work_dir:
        cfg.work_dir = work_dir
    merged = {**DEFAULTS, **cfg.to_dict()}
    for key, value in DEFAULTS.items():
        if isinstance(value, dict):
            merged[key] = {**value, **cfg.to_dict().get(key, {})}
    for dotted in REQUIRED:
        node = merged
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise BadInputError(f"{path}: config field {dotted!r} is missing")
            node = node[part]
    return merged


def _distributed() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank = dist.get_rank() if world > 1 else 0
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def build_models(cfg: dict, device: torch.device) -> tuple[Classifier, Classifier]:
    """(frozen teacher with its sRGB weights, student initialised from them or from scratch)."""
    model = cfg["model"]
    teacher = Classifier(model["backbone"], model["num_classes"])
    load_classifier(teacher, model["teacher_checkpoint"], trusted=model.get("trusted_checkpoint", False))
    teacher.eval().requires_grad_(False)
    student = Classifier(model["backbone"], model["num_classes"])
    if cfg["student_init"] == "teacher":
        student.load_state_dict(teacher.state_dict())
    elif cfg["student_init"] is not None:
        raise BadInputError(f"config field 'student_init': expected 'teacher' or None, got {cfg['student_init']!r}")
    return teacher.to(device), student.to(device)


def learning_rate(step: int, base: float, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to 0 at ``total``."""
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def save_checkpoint(path: Path, state: dict) -> Path:
    """Write ``state`` with ``torch.save`` to ``path`` atomically (no partial file on interruption);
    returns the path."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write_bytes(path, buf.getbuffer())


def _batches(dataset, cfg: dict, epoch: int, skip: int, rank: int, world: int):
    """The batches of one epoch for this rank (the same order on every run), after ``skip`` batches."""
    data = cfg["data"]
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(cfg["seed"] * 100003 + epoch))
    per_rank = order[rank::world].tolist()
    usable = len(per_rank) // data["batch_size"] * data["batch_size"]
    if usable == 0:
        raise BadInputError(f"data.batch_size {data['batch_size']} is larger than the {len(per_rank)} images per "
                            "process")
    dataset.epoch = epoch
    return torch.utils.data.DataLoader(dataset, batch_size=data["batch_size"],
                                       sampler=per_rank[skip * data["batch_size"]:usable],
                                       num_workers=data["num_workers"], pin_memory=torch.cuda.is_available(),
                                       persistent_workers=False), usable // data["batch_size"]


def train(cfg: dict) -> Path:
    """Run (or resume) the distillation; returns the path of the final checkpoint."""
    rank, world, device = _distributed()
    torch.manual_seed(cfg["seed"])
    work_dir = Path(cfg["work_dir"])
    latest = work_dir / "latest.pth"
    work_dir.mkdir(parents=True, exist_ok=True)
    data, schedule, loss_cfg = cfg["data"], cfg["schedule"], cfg["loss"]
    dataset = DistillationDataset(data["root"], read_camera(data["camera"]), data["crop_size"], cfg["seed"],
                                  data["scale"])
    teacher, student = build_models(cfg, device)
    optim_cfg = dict(cfg["optimizer"])
    optimizer = getattr(torch.optim, optim_cfg.pop("type"))(student.parameters(), **optim_cfg)
    use_amp = bool(cfg["amp"]) and device.type == "cuda"
    amp_dtype = torch.bfloat16 if use_amp and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    step = epoch = batch_in_epoch = 0
    if latest.exists():
        state = torch.load(latest, map_location="cpu", weights_only=True)
        student.load_state_dict(state["student"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        step, epoch, batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
    model = torch.nn.parallel.DistributedDataParallel(student) if world > 1 else student
    accum, max_steps = schedule["accum_steps"], schedule["max_steps"]
    bar = tqdm(total=max_steps, initial=step, desc="pretrain", unit="step", disable=rank != 0)
    seen, started = 0, time.perf_counter()
    while step < max_steps:
        loader, per_epoch = _batches(dataset, cfg, epoch, batch_in_epoch, rank, world)
        for i, (srgb, raw, labels) in enumerate(loader):
            srgb, raw, labels = (t.to(device, non_blocking=True) for t in (srgb, raw, labels))
            with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                with torch.no_grad():
                    target = teacher(srgb)
                parts = distillation_loss(model(raw), target, labels, **loss_cfg)
            scaler.scale(parts["loss"] / accum).backward()
            batch_in_epoch += 1
            seen += len(labels) * world
            if (i + 1) % accum and batch_in_epoch < per_epoch:
                continue
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, cfg["optimizer"]["lr"], schedule["warmup_steps"], max_steps)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            bar.update()
            if rank == 0 and (step % cfg["log_interval"] == 0 or step == max_steps):
                record = {"step": step, "lr": optimizer.param_groups[0]["lr"],
                          **{k: round(v.item(), 5) for k, v in parts.items()},
                          "images_per_s": round(seen / (time.perf_counter() - started), 2)}
                bar.write(json.dumps(record))
                with open(work_dir / "log.jsonl", "a") as log:
                    log.write(json.dumps(record) + "\n")
                seen, started = 0, time.perf_counter()
            if rank == 0 and (step % cfg["save_interval"] == 0 or step == max_steps):
                save_checkpoint(latest, {
                    "student": student.state_dict(), "optimizer": optimizer.state_dict(),
                    "scaler": scaler.state_dict(), "step": step, "epoch": epoch + (batch_in_epoch >= per_epoch),
                    "batch_in_epoch": batch_in_epoch % per_epoch,
                    "backbone": dict(cfg["model"]["backbone"]), "num_classes": cfg["model"]["num_classes"]})
            if step >= max_steps:
                break
        if batch_in_epoch >= per_epoch:
            epoch, batch_in_epoch = epoch + 1, 0
    bar.close()
    if world > 1:
        dist.barrier()
    return latest

