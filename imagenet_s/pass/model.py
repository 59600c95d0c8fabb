"""The PASS network: a ResNet with per-pixel projection heads (deep and shallow), SwAV prototypes and the
foreground attention head ("fbg" upstream), plus Sinkhorn-Knopp and checkpoint helpers."""
from __future__ import annotations

import io
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import resnet

from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes

ARCHS = {"resnet18": (resnet.BasicBlock, [2, 2, 2, 2]), "resnet50": (resnet.Bottleneck, [3, 4, 6, 3])}


def _head(in_ch: int, hidden: int, out_ch: int) -> nn.Sequential:
    """The per-pixel projection MLP as 1x1 convolutions: conv, BN, ReLU, conv."""
    return nn.Sequential(nn.Conv2d(in_ch, hidden, 1), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
                         nn.Conv2d(hidden, out_ch, 1))


class PASSNet(nn.Module):
    """ResNet backbone with the PASS heads.

    The backbone keeps torchvision's names (``conv1``, ``bn1``, ``layer1`` .. ``layer4``) and the heads upstream's
    (``projection_head``, ``prototypes``, ``fbg``; ours: ``shallow_heads``), so a saved state dict is a
    torchvision-layout checkpoint plus heads: the MMSegmentation plug-in loads its backbone strictly
    (``imagenet_s.mmseg.checkpoints``, the heads left out), which is how ``pass finetune`` starts.

    Args:
        arch: "resnet18" (ImageNet-S-50) or "resnet50" (300/919).
        feat_dim: embedding size (128 upstream); hidden: projection width (512 / 2048); prototypes: SwAV
            prototypes (500 / 3000); shallow: how many shallow stages get a head for the deep-to-shallow
            supervision (3 upstream: layer1..layer3).
    ``forward(x)`` returns a dict: ``embedding`` (B, D, h, w) L2-normalised per pixel at stride 32, ``scores``
    (B, K, h, w) prototype scores, ``shallow`` list of (B, K, h, w) scores of the shallow heads resized to h x w,
    ``attention`` (B, 1, h, w) in (0, 1).
    """

    def __init__(self, arch: str = "resnet18", feat_dim: int = 128, hidden: int = 512, prototypes: int = 500,
                 shallow: int = 3):
        super().__init__()
        if arch not in ARCHS:
            raise BadInputError(f"unknown arch {arch!r}; expected one of {', '.join(ARCHS)}")
        block, layers = ARCHS[arch]
        net = resnet.ResNet(block, layers)
        self.conv1, self.bn1, self.relu, self.maxpool = net.conv1, net.bn1, net.relu, net.maxpool
        self.layer1, self.layer2, self.layer3, self.layer4 = net.layer1, net.layer2, net.layer3, net.layer4
        widths = [64 * block.expansion * 2 ** i for i in range(4)]
        self.projection_head = _head(widths[3], hidden, feat_dim)
        self.shallow_heads = nn.ModuleList([_head(w, hidden, feat_dim) for w in widths[3 - shallow:3]])
        self.prototypes = nn.Linear(feat_dim, prototypes, bias=False)
        self.fbg = nn.Sequential(nn.Conv2d(widths[3], hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, 1, 1))
        self.config = {"arch": arch, "feat_dim": feat_dim, "hidden": hidden, "prototypes": prototypes,
                       "shallow": shallow}

    def _score(self, embedding: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bdhw,kd->bkhw", embedding, self.prototypes.weight)

    def forward(self, x: torch.Tensor | list) -> dict | list:
        """See the class docstring; ``x`` is (B, 3, H, W) normalised with the ImageNet mean/std, or a list of such
        batches (the crops of a multi-crop step, one call so that DistributedDataParallel sees one forward per
        backward), giving a list of output dicts."""
        if isinstance(x, (list, tuple)):
            return [self._forward(t) for t in x]
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> dict:
        feats = []
        h = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            h = stage(h)
            feats.append(h)
        deep = feats[-1]
        embedding = F.normalize(self.projection_head(deep), dim=1)
        size = deep.shape[-2:]
        shallow = []
        for head, feat in zip(self.shallow_heads, feats[3 - len(self.shallow_heads):3]):
            z = F.normalize(F.adaptive_avg_pool2d(head(feat), size), dim=1)
            shallow.append(self._score(z))
        return {"embedding": embedding, "scores": self._score(embedding), "shallow": shallow,
                "attention": torch.sigmoid(self.fbg(deep))}

    @torch.no_grad()
    def normalize_prototypes(self) -> None:
        """Keep the prototypes on the unit sphere (SwAV does this before every step)."""
        self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))


def default_device() -> torch.device:
    """The device the stages run on: this process's GPU (``LOCAL_RANK`` under torchrun) when CUDA is available,
    else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return torch.device("cpu")


def init_distributed() -> tuple[int, int]:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1; NCCL on GPUs, Gloo on CPUs) if not joined
    yet; returns (rank, world size), (0, 1) for a single process."""
    dist = torch.distributed
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(default_device())
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


@torch.no_grad()
def sinkhorn(scores: torch.Tensor, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """SwAV's Sinkhorn-Knopp: soft assignments (B, K) of B samples to K prototypes with equal partition.

    ``Q = exp(scores / epsilon)``, then ``iterations`` rounds of normalising rows (prototypes, to 1/K) and columns
    (samples, to 1/B); returned with each sample's row summing to 1. Sums are all-reduced when torch.distributed
    is initialised, as upstream's ``distributed_sinkhorn``."""
    dist = torch.distributed.is_available() and torch.distributed.is_initialized()
    q = torch.exp((scores - scores.max()) / epsilon).t()  # shift for float range; cancels in the normalisation
    world = torch.distributed.get_world_size() if dist else 1
    b, k = q.shape[1] * world, q.shape[0]
    total = q.sum()
    if dist:
        torch.distributed.all_reduce(total)
    q /= total
    for _ in range(iterations):
        rows = q.sum(dim=1, keepdim=True)
        if dist:
            torch.distributed.all_reduce(rows)
        q /= rows
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).t()


def swapped_loss(q: torch.Tensor, scores: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """SwAV's swapped prediction: cross-entropy of the assignments ``q`` (N, K) against softmax(scores / T)."""
    return -(q * F.log_softmax(scores / temperature, dim=1)).sum(dim=1).mean()


def save_checkpoint(path: str | os.PathLike, model: PASSNet, **extra) -> Path:
    """Write the model's weights and construction arguments (plus ``extra``: epoch, optimizer ...) atomically."""
    buf = io.BytesIO()
    torch.save({"config": model.config, "state_dict": model.state_dict(), **extra}, buf)
    return atomic_write_bytes(path, buf.getvalue())


def load_checkpoint(path: str | os.PathLike) -> tuple[PASSNet, dict]:
    """A PASSNet rebuilt from ``save_checkpoint``'s file (weights only: no pickled code), on ``default_device()``;
    returns (model, checkpoint dict).

    Raises:
        BadInputError: no such file or not a PASS checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such checkpoint (run the previous PASS stage first)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = PASSNet(**ckpt["config"])
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, RuntimeError, TypeError) as exc:
        raise BadInputError(f"{path}: not a PASS checkpoint ({exc})") from None
    return model.to(default_device()), ckpt
