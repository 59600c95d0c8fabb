#!/usr/bin/env python3
"""Cost of the self-supervised recipes: PR-MIM and partial reconstruction against MAE, MTE against its base.

PR-MIM (``--only prmim``): ViT-B/16 at 224, MAE's mask ratio 0.75, the shipped recipes (``mae_*``, ``partial_*``,
``prmim_*`` of imagenet_s/configs/selfsup) with the decoder's throw ratio set to 0.25 / 0.5 / 0.75. Per method:
- training FLOPs per image: forward + backward of one step, counted by ``torch.utils.flop_counter.FlopCounterMode``
  (matrix products and convolutions; a multiply-add counts 2);
- peak training memory of one step (forward + backward): on the CPU, the peak of the bytes held by tensors created
  during the step (activations kept for backward, gradients, temporaries), counted by a ``TorchDispatchMode`` that
  follows every tensor storage until it is freed (no allocator or RSS noise; the parameters and the optimizer state,
  identical across methods but for PR-MIM's 1.6 M-parameter light layer, are not included); on a GPU,
  ``torch.cuda.max_memory_allocated`` during the step minus what was allocated before it;
- step time: median over ``--repeats`` full steps (forward, backward, AdamW) after one warm-up step.
Each prints ``<work>: ours <value> <unit> | MAE <value> <unit> | ratio <MAE/ours>x | identical: <saving>`` next to
the seed's headline (throw ratio 0.5: 28% fewer FLOPs, 36% less memory than MAE).

MTE (``--only mte``): MoCo v3 ViT-S/16 (two 224 views) with and without MTE's auxiliary tokens: training FLOPs per
image, peak step memory and step time (the overhead), and the exported backbone's inference FLOPs and parameter
names against the base backbone's (the inference overhead, which must be zero).

iBOT base, SERE, HSSL (``--only distill``): one training step (forward, backward, AdamW) of each method's shipped
recipe with the same backbone and views: on the CPU a tiny ViT (width 192, 4 layers, 3 heads, patch 16) on 2 global
64 px views with iBOT block masks and 4 local 32 px views (HSSL: its recipe's 2 global views only), 1,024
prototypes; on a GPU the recipes' ViT-S/16 at 224/96 px with 10 local views. Per method: median step time, peak step
memory (as above), images/s, and SERE's and HSSL's overhead relative to the iBOT base at the same views.

    python tools/benchmarks/bench_selfsup.py [--only prmim mte distill] [--batch 2] [--repeats 2] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import weakref
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
CONFIGS = REPO / "imagenet_s" / "configs" / "selfsup"
SEED_SAVING = {"FLOPs": 0.28, "memory": 0.36}  # the PR-MIM abstract, throw ratio 0.5, ViT-B/16 vs MAE
THROW_RATIOS = (0.25, 0.5, 0.75)


class TensorMemory(TorchDispatchMode):
    """Peak bytes of the tensor storages created by the operators run under it (each counted once, released
    when its storage is freed)."""

    def __init__(self):
        super().__init__()
        self.live = 0
        self.peak = 0
        self._seen: set[int] = set()

    def _release(self, key: int, nbytes: int) -> None:
        self.live -= nbytes
        self._seen.discard(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor) and value.device.type != "meta":
                storage = value.untyped_storage()
                key = id(storage)
                if key not in self._seen:
                    self._seen.add(key)
                    self.live += storage.nbytes()
                    weakref.finalize(storage, self._release, key, storage.nbytes())
                    self.peak = max(self.peak, self.live)
        return out


def build_model(config: str, device: str, **neck):
    """The model of a shipped recipe (imports its plug-in modules), the neck's settings updated by ``neck``."""
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    init_default_scope("mmpretrain")
    cfg = Config.fromfile(str(CONFIGS / config))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.neck.update(neck)
    MessageHub.get_current_instance().update_info("max_iters", 1000)  # CosineEMA (MoCo v3) reads it
    torch.manual_seed(0)
    return MODELS.build(model_cfg).to(device).train()


def forward_backward(model, inputs, amp: bool) -> None:
    """One training forward and backward (gradients kept in ``.grad``)."""
    with torch.autocast(inputs_device(inputs), dtype=torch.float16, enabled=amp):
        loss = sum(model.loss(inputs, []).values())
    loss.backward()


def inputs_device(inputs) -> str:
    """Device type of an image batch or a list of views."""
    return (inputs[0] if isinstance(inputs, list) else inputs).device.type


def measure(model, inputs, batch: int, repeats: int, amp: bool) -> dict:
    """FLOPs per image, peak step memory (bytes) and median step time (s) of training ``model`` on ``inputs``."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    cuda = inputs_device(inputs) == "cuda"

    def step():
        optimizer.zero_grad(set_to_none=True)
        forward_backward(model, inputs, amp)
        optimizer.step()

    step()  # warm-up: optimizer state, kernels
    times = []
    for _ in range(repeats):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    optimizer.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        forward_backward(model, inputs, amp)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - before
    else:
        tracker = TensorMemory()
        with tracker:
            forward_backward(model, inputs, amp)
        peak = tracker.peak
    optimizer.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as counter:
        forward_backward(model, inputs, amp)
    optimizer.zero_grad(set_to_none=True)
    return dict(flops=counter.get_total_flops() / batch, memory=peak, time=statistics.median(times))


def comparison(work: str, ours: float, peer_name: str, theirs: float, unit: str, note: str) -> str:
    """One line in run_all.py's comparison format (ratio = peer / ours: above 1, ours is cheaper)."""
    ratio = theirs / ours if ours else float("nan")
    return f"{work}: ours {ours:.4g} {unit} | {peer_name} {theirs:.4g} {unit} | ratio {ratio:.3f}x | identical: {note}"


def report(name: str, result: dict, base_name: str, base: dict, batch: int, seed: bool) -> None:
    """The FLOPs, memory and time comparison lines of one method against its base."""
    for key, unit, scale, label in (("flops", "GFLOP", 1e9, "FLOPs"), ("memory", "MiB", 2 ** 20, "memory"),
                                    ("time", "s", 1.0, "time")):
        saving = 1 - result[key] / base[key]
        note = f"n/a (saving {saving:+.1%}"
        if seed and label in SEED_SAVING:
            note += f"; seed at throw 0.5: {SEED_SAVING[label]:.0%}"
        what = {"flops": "train FLOPs/image", "memory": f"peak step memory at batch {batch}",
                "time": f"step time at batch {batch}"}[key]
        print(comparison(f"{name} {what}", result[key] / scale, base_name, base[key] / scale, unit, note + ")"),
              flush=True)


def bench_prmim(args) -> None:
    """MAE vs partial reconstruction vs PR-MIM, ViT-B/16 at 224, mask ratio 0.75 (see the module docstring)."""
    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, 224, 224, device=args.device)
    mae = measure(build_model("mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py", args.device), images, args.batch,
                  args.repeats, args.amp)
    print(f"MAE ViT-B/16: {mae['flops'] / 1e9:.2f} GFLOP/image (train), {mae['memory'] / 2 ** 20:.0f} MiB peak step "
          f"memory at batch {args.batch}, {mae['time']:.3f} s/step", flush=True)
    for recipe, label in (("partial", "partial"), ("prmim", "PR-MIM")):
        for throw in THROW_RATIOS:
            model = build_model(f"{recipe}_vit-base-p16_8xb512-amp-coslr-400e_in1k.py", args.device,
                                throw_ratio=throw)
            result = measure(model, images, args.batch, args.repeats, args.amp)
            report(f"{label} throw {throw}", result, "MAE", mae, args.batch, seed=throw == 0.5)
            del model


def bench_mte(args) -> None:
    """MoCo v3 ViT-S/16 with and without MTE: training overhead and (zero) inference overhead."""
    batch = max(args.batch, 2)  # the projection neck's BatchNorm needs two samples
    torch.manual_seed(0)
    views = [torch.randn(batch, 3, 224, 224, device=args.device) for _ in range(2)]
    base_model = build_model("mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py", args.device)
    base = measure(base_model, views, batch, args.repeats, args.amp)
    mte_model = build_model("mte_mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py", args.device)
    mte = measure(mte_model, views, batch, args.repeats, args.amp)
    report("MTE (MoCo v3 ViT-S/16, 3 aux [CLS] + 2 pooled)", mte, "MoCo v3", base, batch, seed=False)

    exported = {k.removeprefix("backbone."): v for k, v in mte_model.state_dict().items()
                if k.startswith("backbone.")}
    same_names = list(exported) == [k.removeprefix("backbone.") for k in base_model.state_dict()
                                    if k.startswith("backbone.")]
    for model in (base_model.backbone, mte_model.backbone):
        model.eval()
    image = views[0][:1]

    def inference_flops(backbone) -> int:
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            backbone(image)
        return counter.get_total_flops()

    ours, theirs = inference_flops(mte_model.backbone), inference_flops(base_model.backbone)
    print(comparison("MTE exported ViT-S/16 inference FLOPs/image", ours / 1e9, "MoCo v3", theirs / 1e9, "GFLOP",
                     f"{'yes' if same_names and ours == theirs else 'no'} (same parameter names: "
                     f"{'yes' if same_names else 'no'}, {len(exported)} tensors)"), flush=True)


DISTILL_RECIPES = {"iBOT": "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py",
                   "SERE": "sere_vit-small-p16_8xb128-coslr-100e_in1k.py",
                   "HSSL": "hssl_vit-base-p16_8xb32-amp-coslr-100e_in1k.py"}


class WithSamples(torch.nn.Module):
    """A self-distillation model whose ``loss(inputs, _)`` uses fixed data samples (block masks, crop boxes), so
    ``measure`` can time it like the other methods."""

    def __init__(self, model, samples):
        super().__init__()
        self.model, self.samples = model, samples

    def loss(self, inputs, _samples):
        """The wrapped model's losses on ``inputs`` with the stored samples."""
        return self.model.loss(inputs, self.samples)


def distill_inputs(batch: int, global_size: int, local_size: int, num_local: int, patch: int, device: str):
    """Random views (globals first) and data samples with iBOT block masks and crop boxes."""
    from mmpretrain.structures import DataSample

    from imagenet_s.selfsup.transforms import IBOTBlockMask

    views = [torch.randn(batch, 3, global_size, global_size, device=device) for _ in range(2)]
    views += [torch.randn(batch, 3, local_size, local_size, device=device) for _ in range(num_local)]
    masker = IBOTBlockMask(global_size // patch, pred_ratio=(0.3,), pred_ratio_var=(0.0,))
    boxes = [[0.0, 0.0, 0.9, 0.9], [1.0, 0.1, 0.2, 1.0]] + [[0.3, 0.3, 0.6, 0.6]] * num_local
    samples = []
    for _ in range(batch):
        sample = DataSample()
        sample.set_field([masker.sample(), masker.sample()] + [None] * num_local, "view_masks")
        sample.set_field(boxes, "view_boxes")
        samples.append(sample)
    return views, samples


def build_distill_model(recipe: str, device: str, tiny: bool):
    """The model of a shipped iBOT/SERE/HSSL recipe; ``tiny``: a 4-layer width-192 ViT and 1,024 prototypes."""
    from mmengine.config import Config
    from mmengine.logging import MessageHub
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS

    init_default_scope("mmpretrain")
    cfg = Config.fromfile(str(CONFIGS / recipe))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.arch = "deit-small"  # the GPU comparison: every method on ViT-S/16
    model_cfg.head.in_channels = 384
    if tiny:
        model_cfg.backbone.update(arch=dict(embed_dims=192, num_layers=4, num_heads=3, feedforward_channels=768),
                                  img_size=64)
        model_cfg.head.update(in_channels=192, out_channels=1024, hidden_channels=512, bottleneck_channels=128)
        if model_cfg.type == "SERE":
            model_cfg.spatial_grid = (3, 2)
    MessageHub.get_current_instance().update_info("max_iters", 1000)
    torch.manual_seed(0)
    return MODELS.build(model_cfg).to(device).train()


def bench_distill(args) -> None:
    """iBOT vs SERE vs HSSL training steps (see the module docstring)."""
    tiny = args.device == "cpu"
    batch = max(args.batch, 2)  # SERE's relation heads use BatchNorm
    sizes = (64, 32, 4) if tiny else (224, 96, 10)
    results = {}
    for name, recipe in DISTILL_RECIPES.items():
        num_local = 0 if name == "HSSL" else sizes[2]
        views, samples = distill_inputs(batch, sizes[0], sizes[1], num_local, 16, args.device)
        model = WithSamples(build_distill_model(recipe, args.device, tiny), samples)
        results[name] = measure(model, views, batch, args.repeats, args.amp)
        print(f"{name} ({'tiny ViT' if tiny else 'ViT-S/16'}, 2 global + {num_local} local views): "
              f"{results[name]['time']:.3f} s/step, {batch / results[name]['time']:.1f} images/s, "
              f"{results[name]['memory'] / 2 ** 20:.1f} MiB peak step memory at batch {batch}", flush=True)
        if name == "HSSL":  # the same views for its base: iBOT without local views
            results["iBOT (global views only)"] = measure(
                WithSamples(build_distill_model(DISTILL_RECIPES["iBOT"], args.device, tiny), samples), views, batch,
                args.repeats, args.amp)
        del model
    papers = {"SERE": "not stated in the spec's sources", "HSSL": "not stated in the spec's sources"}
    for name, base_name in (("SERE", "iBOT"), ("HSSL", "iBOT (global views only)")):
        for key, unit, scale, what in (("time", "s", 1.0, f"step time at batch {batch}"),
                                       ("memory", "MiB", 2 ** 20, f"peak step memory at batch {batch}")):
            overhead = results[name][key] / results[base_name][key] - 1
            print(comparison(f"{name} {what}", results[name][key] / scale, base_name, results[base_name][key] / scale,
                             unit, f"n/a (overhead {overhead:+.1%}; paper: {papers[name]})"), flush=True)


BENCHES = {"prmim": bench_prmim, "mte": bench_mte, "distill": bench_distill}


def main() -> None:
    """Parse the options and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    parser.add_argument("--batch", type=int, default=2, help="images per step (CPU: keep it small)")
    parser.add_argument("--repeats", type=int, default=2, help="timed steps after one warm-up step")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                        help="float16 autocast as the recipes train (default: on for cuda, off for cpu)")
    args = parser.parse_args()
    if args.amp is None:
        args.amp = args.device == "cuda"
    if args.device == "cpu":
        torch.set_num_threads(1)
    print(f"device {args.device}, batch {args.batch}, repeats {args.repeats}, amp {args.amp}, "
          f"memory counted by {'torch.cuda.max_memory_allocated' if args.device == 'cuda' else 'tensor storages'}",
          flush=True)
    for name in args.only:
        BENCHES[name](args)


if __name__ == "__main__":
    main()
