"""PASS fine-tuning on the pseudo labels (upstream ``main_pixel_finetuning.py``) and inference to the submission
format with the fitted match (upstream ``inference.py``).

The segmentation network is the pretrained PASS backbone with a 1x1 convolution to N + 1 classes on the last
stage (stride 32), logits bilinearly upsampled to the label size, cross-entropy with ignore 1000; SGD with a
cosine schedule. Kept in plain PyTorch: the ImageNet-S MMSegmentation plug-in was not on the main branch when
this was written (see docs/pass.md). Inference: shorter side resized to ``resize``, logits upsampled to the image
size, argmax, predicted labels mapped through ``match.json`` (labels it does not name keep their id)."""
from __future__ import annotations

import io
import json
import random
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from evaluators.luss.masks import IGNORE, MaskFolder, write_mask
from evaluators.luss.matching import read_match
from imagenet_s.submission import METHOD_FIELDS
from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes, atomic_write_text, needs_writing
from plumbing.jobs import take_shard

from .data import jitter, list_images, load_rgb, normalize, resize_shorter
from .model import PASSNet, default_device, load_checkpoint


class SegNet(nn.Module):
    """A PASSNet backbone with a 1x1 classifier to ``num_classes + 1`` classes on its last stage."""

    def __init__(self, backbone: PASSNet, num_classes: int):
        super().__init__()
        self.backbone = backbone
        self.classifier = nn.Conv2d(backbone.projection[0].in_channels, num_classes + 1, 1)
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N + 1, H / 32, W / 32) logits of normalised (B, 3, H, W) images."""
        h = self.backbone.stem(x)
        for stage in self.backbone.stages:
            h = stage(h)
        return self.classifier(h)


def _sample(image: torch.Tensor, label: np.ndarray, cfg: dict, rng: random.Random):
    image = resize_shorter(image, cfg["resize"])
    h, w = image.shape[-2:]
    lab = torch.from_numpy(label.astype(np.int64))[None, None].float()
    lab = F.interpolate(lab, size=(h, w), mode="nearest")[0, 0].long()
    size = cfg["crop"]
    top, left = rng.randint(0, max(0, h - size)), rng.randint(0, max(0, w - size))
    image, lab = image[:, top:top + size, left:left + size], lab[top:top + size, left:left + size]
    if rng.random() < 0.5:
        image, lab = image.flip(-1), lab.flip(-1)
    return normalize(jitter(image, rng)), lab


def run_finetune(cfg: dict, data_root: str | Path, work_dir: str | Path, pseudo_dir: str | Path, *,
                 log=print) -> Path:
    """Train ``SegNet`` on ``train`` images with the pseudo labels in ``pseudo_dir`` (``wnid/name.png``);
    writes ``WORK/finetune.pth`` (skipped when present). Raises BadInputError for a missing pseudo label."""
    work_dir = Path(work_dir)
    final = work_dir / "finetune.pth"
    if final.is_file():
        log(f"{final} exists: finetune already done")
        return final
    fcfg = cfg["finetune"]
    backbone, _ = load_checkpoint(work_dir / "attention.pth")
    device = default_device()
    model = SegNet(backbone, cfg["num_classes"]).to(device)
    folder, labels = Path(data_root) / cfg.get("train_split", "train"), MaskFolder(pseudo_dir)
    names = list_images(folder)
    rng = random.Random(cfg.get("seed", 0))
    torch.manual_seed(cfg.get("seed", 0))
    optimizer = torch.optim.SGD(model.parameters(), lr=fcfg["base_lr"], momentum=0.9,
                                weight_decay=fcfg.get("weight_decay", 1e-4))
    steps = fcfg["epochs"] * max(1, len(names) // fcfg["batch_size"])
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    model.train()
    for epoch in range(fcfg["epochs"]):
        order = names[:]
        rng.shuffle(order)
        for i in range(0, max(1, len(order) - fcfg["batch_size"] + 1), fcfg["batch_size"]):
            batch = [_sample(load_rgb(folder / n), labels.read(str(Path(n).with_suffix(".png"))), fcfg, rng)
                     for n in order[i:i + fcfg["batch_size"]]]
            images = torch.stack([b[0] for b in batch]).to(device)
            targets = torch.stack([b[1] for b in batch]).to(device)
            logits = F.interpolate(model(images), size=targets.shape[-2:], mode="bilinear", align_corners=False)
            loss = F.cross_entropy(logits, targets, ignore_index=IGNORE)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        log(f"finetune epoch {epoch + 1}/{fcfg['epochs']}: loss {loss.item():.4f}")
    buf = io.BytesIO()
    state = {k: v.cpu() for k, v in model.state_dict().items()}
    torch.save({"config": backbone.config, "num_classes": cfg["num_classes"], "state_dict": state}, buf)
    return atomic_write_bytes(final, buf.getvalue())


def load_segnet(path: str | Path) -> SegNet:
    """The fine-tuned network of ``run_finetune``. Raises BadInputError for a missing or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"{path}: no such checkpoint (run `imagenet-s pass finetune` first)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = SegNet(PASSNet(**ckpt["config"]), ckpt["num_classes"])
        model.load_state_dict(ckpt["state_dict"])
    except (KeyError, RuntimeError, TypeError) as exc:
        raise BadInputError(f"{path}: not a PASS fine-tuned checkpoint ({exc})") from None
    return model.to(default_device()).eval()


@torch.no_grad()
def run_infer(cfg: dict, data_root: str | Path, work_dir: str | Path, split: str, out_dir: str | Path, *,
              match: str | Path | None = None, zip_path: str | Path | None = None,
              shard: tuple[int, int] | None = None, log=print) -> int:
    """Predict every image of ``split`` with ``WORK/finetune.pth``: ``OUT/wnid/name.png`` in the submission
    encoding, labels mapped through ``match`` (official format) when given, and ``OUT/method.txt``; ``zip_path``
    also packs them into a submission zip (with an identity ``match.json`` when ``match`` was applied; every image
    of the split must be predicted by then); ``shard`` (K, N) predicts only shard K of N of the sorted images.
    Returns images written."""
    model = load_segnet(Path(work_dir) / "finetune.pth")
    n = model.num_classes
    lookup = np.arange(n + 1)
    if match is not None:
        for k, v in read_match(match, n).items():
            lookup[k] = v
    folder, out_dir = Path(data_root) / split, Path(out_dir)
    names = list_images(folder)
    done = 0
    for name in take_shard(names, shard):
        png = out_dir / Path(name).with_suffix(".png")
        if not needs_writing(png):
            continue
        image = load_rgb(folder / name)
        logits = model(normalize(resize_shorter(image, cfg["finetune"]["resize"]))[None].to(default_device()))
        logits = F.interpolate(logits, size=tuple(image.shape[-2:]), mode="bilinear", align_corners=False)
        write_mask(png, lookup[logits[0].argmax(dim=0).cpu().numpy()])
        done += 1
    method = dict(zip(METHOD_FIELDS, ("PASS", "ImageNet-S train (no labels)", "fully unsupervised",
                                      cfg["model"]["arch"], "https://github.com/LUSSeg/PASS",
                                      "PASS pseudo labels, fine-tuned, labels matched with the sweep's match")))
    method_txt = "".join(f"{k}: {v}\n" for k, v in method.items())
    atomic_write_text(out_dir / "method.txt", method_txt)
    if zip_path is not None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in names:
                rel = Path(name).with_suffix(".png").as_posix()
                zf.writestr(rel, (out_dir / rel).read_bytes())
            zf.writestr("method.txt", method_txt)
            if match is not None:  # labels are classes already: the identity keeps a scorer from refitting
                zf.writestr("match.json", json.dumps({str(i): i for i in range(n + 1)}))
        atomic_write_bytes(zip_path, buf.getvalue())
    log(f"inference: {done} images of {split} -> {out_dir}" + (f", zip {zip_path}" if zip_path else ""))
    return done

