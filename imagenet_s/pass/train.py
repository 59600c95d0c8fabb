"""The two self-supervised PASS stages: ``pretrain`` (pixel-to-pixel alignment with deep-to-shallow
supervision) and ``pixel_attention`` (the foreground attention head), one training loop for both.

Pretrain (upstream ``main_pretrain.py``): two views of one crop region and ``n_local`` smaller crops of it; per
pixel, Sinkhorn-Knopp assignments of each global view (epsilon 0.05, 3 iterations) are the targets of the other
global view, of the local crops (targets RoIAligned to their boxes) and of the shallow heads (deep-to-shallow
supervision, weight ``shallow_weight`` each); cross-entropy at temperature 0.1. Pixel attention (upstream
``main_pixel_attention.py``): only the attention head and the prototypes train; each view becomes one
attention-pooled image embedding and the same swapped SwAV loss runs over the batch.
Runs on one CPU in the tests and under ``torchrun`` (DistributedDataParallel, SyncBN, sharded sampler).
SwAV's queue (``pretrain.queue_length`` pixel embeddings per global view, from ``epoch_queue_starts``) joins the
Sinkhorn-Knopp step; every process's queue and random state are saved in ``<stage>_latest.pth`` after each epoch,
so a resumed run continues with the queue and the data order it would have had. Optimiser: upstream's SGD under
LARC as MMPretrain's ``LARS`` (``lars_eta``), warm-up and cosine decay per step. Not reproduced: fp16.
"""
from __future__ import annotations

import math
import random
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from plumbing.errors import BadInputError

from . import model as pass_model
from .data import list_images, load_rgb, multi_crop
from .model import PASSNet, load_checkpoint, save_checkpoint, sinkhorn, swapped_loss

PRETRAIN, ATTENTION = "pretrain", "attention"


class CropDataset(torch.utils.data.Dataset):
    """The images of a split as multi-crop samples (see ``data.multi_crop``); deterministic per (seed, index)."""

    def __init__(self, folder: Path, crops: dict, seed: int = 0):
        self.folder, self.names, self.crops, self.seed = folder, list_images(folder), crops, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, index: int) -> dict:
        rng = random.Random(hash((self.seed, self.epoch, index)))
        return multi_crop(load_rgb(self.folder / self.names[index]), self.crops, rng)


def _collate(samples: list) -> dict:
    return {"views": [torch.stack([s["views"][v] for s in samples]) for v in range(2)],
            "flips": torch.tensor([s["flips"] for s in samples]),
            "locals": [torch.stack([s["locals"][i] for s in samples]) for i in range(len(samples[0]["locals"]))],
            "boxes": [s["boxes"] for s in samples]}


def _to(batch: dict, device: torch.device) -> dict:
    return {"views": [v.to(device) for v in batch["views"]], "flips": batch["flips"].to(device),
            "locals": [c.to(device) for c in batch["locals"]], "boxes": [b.to(device) for b in batch["boxes"]]}


def _unflip(tensor: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    return torch.where(flips.view(-1, 1, 1, 1), tensor.flip(-1), tensor)


def _pixels(scores: torch.Tensor) -> torch.Tensor:
    return scores.permute(0, 2, 3, 1).reshape(-1, scores.shape[1])


def assignments(scores: torch.Tensor, embeddings: torch.Tensor, prototypes: torch.Tensor, queue: torch.Tensor | None,
                eps: float, iters: int) -> torch.Tensor:
    """Sinkhorn-Knopp assignments (N, K) of N samples, computed together with the queued embeddings (SwAV's queue:
    more samples for the equal-partition constraint when batches are small), which ``embeddings`` then enter.

    ``queue`` (Q, D) is updated in place (newest first); an all-zero queue (not yet filled once) is not used."""
    n = scores.shape[0]
    if queue is None or queue.shape[0] == 0:
        return sinkhorn(scores, eps, iters)
    source = scores
    if queue[-1].abs().sum() > 0:
        source = torch.cat([queue @ prototypes.t(), scores])
    keep = min(n, queue.shape[0])
    queue[keep:] = queue[:-keep].clone() if keep < queue.shape[0] else queue[keep:]
    queue[:keep] = embeddings[-keep:].detach()
    return sinkhorn(source, eps, iters)[-n:]


def pretrain_loss(model, batch: dict, cfg: dict, queues: torch.Tensor | None = None) -> torch.Tensor:
    """The pixel-to-pixel SwAV loss of one batch (see the module docstring); ``queues`` (2, Q, D): the pixel
    embeddings queued per global view, or None."""
    eps, iters, temp = cfg["epsilon"], cfg["sinkhorn_iterations"], cfg["temperature"]
    inner = model.module if hasattr(model, "module") else model
    every = model(batch["views"] + batch["locals"])
    outs = every[:2]
    embeddings = [_pixels(_unflip(o["embedding"], batch["flips"][:, i])) for i, o in enumerate(outs)]
    scores = [_unflip(o["scores"], batch["flips"][:, i]) for i, o in enumerate(outs)]
    shallow = [[_unflip(s, batch["flips"][:, i]) for s in o["shallow"]] for i, o in enumerate(outs)]
    local_scores = [o["scores"] for o in every[2:]]
    g = batch["views"][0].shape[-1]
    loss, terms = 0.0, 0
    for i in range(2):
        q = assignments(_pixels(scores[i].detach()), embeddings[i], inner.prototypes.weight.detach(),
                        None if queues is None else queues[i], eps, iters)
        q_map = q.view(scores[i].shape[0], *scores[i].shape[2:], -1).permute(0, 3, 1, 2)
        loss = loss + swapped_loss(q, _pixels(scores[1 - i]), temp)
        terms += 1
        for s in shallow[1 - i] + shallow[i]:
            loss = loss + cfg["shallow_weight"] * swapped_loss(q, _pixels(s), temp)
            terms += 1
        for j, ls in enumerate(local_scores):
            boxes = [b[j:j + 1] for b in batch["boxes"]]
            target = roi_align(q_map, boxes, output_size=ls.shape[-2:], spatial_scale=q_map.shape[-1] / g,
                               aligned=True)
            target = target / target.sum(dim=1, keepdim=True).clamp_min(1e-12)
            loss = loss + swapped_loss(_pixels(target), _pixels(ls), temp)
            terms += 1
    return loss / terms


def attention_loss(model, batch: dict, cfg: dict, queues: torch.Tensor | None = None) -> torch.Tensor:
    """The image-level SwAV loss on attention-pooled embeddings of the two views and the local crops (no queue:
    ``queues`` is accepted and ignored)."""
    eps, iters, temp = cfg["epsilon"], cfg["sinkhorn_iterations"], cfg["temperature"]
    inner = model.module if hasattr(model, "module") else model
    pooled = []
    for out in model(batch["views"] + batch["locals"]):
        weights = out["attention"]
        emb = (out["embedding"] * weights).sum(dim=(2, 3)) / weights.sum(dim=(2, 3)).clamp_min(1e-6)
        pooled.append(F.normalize(emb, dim=1) @ inner.prototypes.weight.t())
    loss, terms = 0.0, 0
    for i in range(2):
        q = sinkhorn(pooled[i].detach(), eps, iters)
        for j, scores in enumerate(pooled):
            if j != i:
                loss = loss + swapped_loss(q, scores, temp)
                terms += 1
    return loss / terms


def gather_ranks(tensor: torch.Tensor | None, world: int) -> torch.Tensor | None:
    """(world, ...) CPU stack of every process's ``tensor`` (an all-gather under torch.distributed; every process
    must call it), or None for None."""
    if tensor is None:
        return None
    if world == 1:
        return tensor[None].cpu()
    parts = [torch.empty_like(tensor) for _ in range(world)]
    torch.distributed.all_gather(parts, tensor.contiguous())
    return torch.stack(parts).cpu()


def restore_queue(saved: torch.Tensor | None, rank: int, world: int, length: int, dim: int,
                  device: torch.device) -> tuple[torch.Tensor | None, str]:
    """This process's queue (2, length, dim) from a checkpoint's ``queues`` (world, 2, length, dim), and a note for
    the log; None (the queue starts empty) when the checkpoint holds none or one of another world size or shape."""
    if saved is None:
        return None, "no queue saved"
    if tuple(saved.shape) != (world, 2, length, dim):
        return None, f"saved queue {tuple(saved.shape)} does not fit {(world, 2, length, dim)}: starting it empty"
    return saved[rank].to(device), "queue restored"


def make_optimizer(params: list, train_cfg: dict) -> torch.optim.Optimizer:
    """Upstream's optimiser: SGD with momentum 0.9 and weight decay ``weight_decay`` under LARC (trust coefficient
    ``lars_eta``, 0.001 upstream, no clipping), here MMPretrain's ``LARS`` (the same per-tensor trust ratio
    ``eta * |w| / (|g| + wd * |w|)``; its momentum buffer holds lr-scaled steps); ``lars_eta`` 0 or None: plain SGD.
    The lr is set per step by the schedule."""
    lr, decay, eta = train_cfg["base_lr"], train_cfg.get("weight_decay", 1e-6), train_cfg.get("lars_eta")
    if not eta:
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=decay)
    from mmpretrain.engine.optimizers import LARS

    return LARS(params, lr=lr, momentum=0.9, weight_decay=decay, eta=eta)


def _lr(cfg: dict, step: int, total: int, world: int) -> float:
    base = cfg["base_lr"] * cfg["batch_size"] * world / 256
    warm = cfg.get("warmup_iters", 0)
    if step < warm:
        return base * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return cfg.get("final_lr", 0.0) + 0.5 * (base - cfg.get("final_lr", 0.0)) * (1 + math.cos(math.pi * progress))


def run_stage(stage: str, cfg: dict, data_root: str | Path, work_dir: str | Path, *, init: str | Path | None = None,
              log=print) -> Path:
    """Train ``stage`` ("pretrain" or "attention") and write ``WORK/<stage>.pth``; resumable.

    Args:
        cfg: a whole PASS config as a dict (``model``, ``crops``, ``<stage>``, Sinkhorn and loss settings; see
            imagenet_s/configs/pass).
        data_root: an ImageNet-S subset folder (its ``train/`` is read).
        init: the checkpoint to start from (attention: the pretrained model).
    A finished stage (``<stage>.pth`` present) is skipped; an interrupted one resumes from ``<stage>_latest.pth``.
    Raises:
        BadInputError: missing folders or checkpoints.
    """
    work_dir = Path(work_dir)
    final, latest = work_dir / f"{stage}.pth", work_dir / f"{stage}_latest.pth"
    if final.is_file():
        log(f"{final} exists: {stage} already done")
        return final
    rank, world = pass_model.init_distributed()
    dist, device = world > 1, pass_model.default_device()
    torch.manual_seed(cfg.get("seed", 0) + rank)
    if init is not None:
        model, _ = load_checkpoint(init)
    else:
        model = PASSNet(**cfg["model"]).to(device)
    train_cfg = cfg[stage]
    start_epoch, ckpt = 0, {}
    if latest.is_file():
        model, ckpt = load_checkpoint(latest)
        start_epoch = int(ckpt["epoch"])
    if stage == ATTENTION:
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith(("fbg", "prototypes"))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, train_cfg)
    if latest.is_file():
        optimizer.load_state_dict(ckpt["optimizer"])
    net = model
    if dist:
        if device.type == "cuda":  # SyncBN runs on GPUs only; CPU processes keep per-process statistics
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None,
                                                        find_unused_parameters=True)  # unused heads
    folder = Path(data_root) / cfg.get("train_split", "train")
    dataset = CropDataset(folder, cfg["crops"], cfg.get("seed", 0))
    sampler = torch.utils.data.DistributedSampler(dataset) if dist else None
    loader = torch.utils.data.DataLoader(dataset, batch_size=train_cfg["batch_size"], shuffle=sampler is None,
                                         sampler=sampler, num_workers=cfg.get("workers", 0), collate_fn=_collate,
                                         drop_last=len(dataset) >= train_cfg["batch_size"])
    if len(loader) == 0:
        raise BadInputError(f"{folder}: fewer images than one batch")
    loss_fn = pretrain_loss if stage == PRETRAIN else attention_loss
    total = train_cfg["epochs"] * len(loader)
    queue_length = train_cfg.get("queue_length", 0) // world if stage == PRETRAIN else 0
    queues = None
    if latest.is_file():
        queues, note = restore_queue(ckpt.get("queues"), rank, world, queue_length, model.config["feat_dim"], device)
        rng = ckpt.get("rng")
        if rng is not None and rng.shape[0] == world:
            torch.set_rng_state(rng[rank].to(torch.uint8))
        log(f"resuming {stage} from {latest} (epoch {start_epoch}; {note})")
    for epoch in range(start_epoch, train_cfg["epochs"]):
        if queue_length and epoch >= train_cfg.get("epoch_queue_starts", 0) and queues is None:
            queues = torch.zeros(2, queue_length, model.config["feat_dim"], device=device)
        dataset.epoch = epoch
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        for it, batch in enumerate(loader):
            step = epoch * len(loader) + it
            for group in optimizer.param_groups:
                group["lr"] = _lr(train_cfg, step, total, world)
            model.normalize_prototypes()
            loss = loss_fn(net, _to(batch, device), cfg, queues)
            optimizer.zero_grad()
            loss.backward()
            if step < train_cfg.get("freeze_prototypes_iters", 0):
                model.prototypes.weight.grad = None  # upstream: frozen prototypes are skipped by the optimiser
            optimizer.step()
        saved_queues = gather_ranks(queues, world)
        rng = gather_ranks(torch.get_rng_state().to(device), world)
        if rank == 0:
            log(f"{stage} epoch {epoch + 1}/{train_cfg['epochs']}: loss {loss.item():.4f}")
            save_checkpoint(latest, model, epoch=epoch + 1, optimizer=optimizer.state_dict(), queues=saved_queues,
                            rng=rng)
    if rank == 0:
        model.normalize_prototypes()
        save_checkpoint(final, model, epoch=train_cfg["epochs"])
        latest.unlink(missing_ok=True)
    if dist:
        torch.distributed.barrier()
    return final
