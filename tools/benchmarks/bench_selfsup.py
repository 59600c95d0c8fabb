#!/usr/bin/env python3
"""Cost of the self-supervised recipes: PR-MIM and partial reconstruction against MAE, MTE against its base.

PR-MIM (``--only prmim``): ViT-B/16 at 224, MAE's mask ratio 0.75, the shipped recipes (``mae_*``, ``partial_*``,
``prmim_*`` of imagenet_s/configs/selfsup) with the decoder's throw ratio (a fraction of the masked tokens) set to
0.25 / 0.5 / 2/3 / 0.75 (2/3 of the masked tokens is half of all patches: one reading of the seed's "throwing 50%
patches"). Per method:
- training FLOPs per image: forward + backward of one step, counted by ``torch.utils.flop_counter.FlopCounterMode``
  (matrix products, attention and convolutions; a multiply-add counts 2);
- activations saved for backward per image (saved-tensor hooks, each storage once, parameters excluded): the part of
  training memory that grows with the batch;
- peak training memory of one forward + backward on ``--memory-batch`` images: on the CPU, the peak of the bytes held
  by tensors created during the step (activations kept for backward, gradients, temporaries), counted by a
  ``TorchDispatchMode`` that follows every tensor storage until it is freed (no allocator or RSS noise; parameters
  and optimizer state, the same for all methods but PR-MIM's 1.6 M-parameter light layer, are not included); on a
  GPU, ``torch.cuda.max_memory_allocated`` during the step minus what was allocated before it;
- step time: median over ``--repeats`` full steps (forward, backward, AdamW) after one warm-up step, the methods
  timed round-robin (on a shared CPU the times are noisy: FLOPs and memory are the stable figures).
Each prints ``<work>: ours <value> <unit> | MAE <value> <unit> | ratio <MAE/ours>x | identical: <saving>`` next to
the seed's headline (throw ratio 0.5: 28% fewer FLOPs, 36% less memory than MAE).

MTE (``--only mte``): MoCo v3 ViT-S/16 (two 224 views) with and without MTE's auxiliary tokens: training FLOPs per
image, activations, peak step memory and step time (the overhead), and the exported backbone's inference FLOPs and
parameter names against the base backbone's (the inference overhead, which must be zero).

iBOT base, SERE, HSSL (``--only distill``): training steps of each method's shipped recipe with the same backbone
and views: on the CPU a tiny ViT (width 192, 4 layers, 3 heads, patch 16) on 2 global 64 px views with iBOT block
masks and 4 local 32 px views (HSSL: its recipe's 2 global views only, compared with iBOT on the same 2 views),
1,024 prototypes; on a GPU the recipes' ViT-S/16 at 224/96 px with 10 local views and 8,192 prototypes. Per method
the measures above plus images/s; SERE's and HSSL's lines are their overhead relative to the iBOT base (a negative
saving).

    python tools/benchmarks/bench_selfsup.py [--only prmim mte distill] [--batch 2] [--repeats 3] [--memory-batch 8]
                                             [--device cpu|cuda] [--[no-]amp]
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
THROW_RATIOS = (0.25, 0.5, 2 / 3, 0.75)  # 2/3 of the masked tokens = half of all patches


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
        # outputs aliasing an input (views, in-place results) hold no new memory: parameters' views must not count
        aliased = {id(value.untyped_storage()) for value in tree_flatten((args, kwargs))[0]
                   if isinstance(value, torch.Tensor)}
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor) and value.device.type != "meta":
                storage = value.untyped_storage()
                key = id(storage)
                if key not in self._seen and key not in aliased:
                    self._seen.add(key)
                    self.live += storage.nbytes()
                    weakref.finalize(storage, self._release, key, storage.nbytes())
                    self.peak = max(self.peak, self.live)
        return out


def saved_activations(model, inputs, amp: bool) -> int:
    """Bytes of the tensors a training forward saves for backward (each storage once, parameters excluded): the
    training memory that grows with the batch."""
    params = {id(p.untyped_storage()) for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if id(storage) not in params:
            storages[id(storage)] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with torch.autocast(inputs_device(inputs), dtype=torch.float16, enabled=amp):
            losses = model.loss(inputs, [])
    del losses
    return sum(storages.values())


def build_model(config: str, device: str, **neck):
    """The model of a shipped recipe (imports its plug-in modules), the neck's settings updated by ``neck``."""
    from mmengine.logging import MessageHub
    from mmpretrain.registry import MODELS

    model_cfg = copy.deepcopy(recipe(config).model)
    model_cfg.neck.update(neck)
    MessageHub.get_current_instance().update_info("max_iters", 1000)  # CosineEMA (MoCo v3) reads it
    torch.manual_seed(0)
    return MODELS.build(model_cfg).to(device).train()


def recipe(config: str):
    """A shipped recipe of imagenet_s/configs/selfsup, read (its ``custom_imports`` imported)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    init_default_scope("mmpretrain")
    return Config.fromfile(str(CONFIGS / config))


def forward_backward(model, inputs, amp: bool) -> None:
    """One training forward and backward (gradients kept in ``.grad``)."""
    with torch.autocast(inputs_device(inputs), dtype=torch.float16, enabled=amp):
        loss = sum(model.loss(inputs, []).values())
    loss.backward()


def inputs_device(inputs) -> str:
    """Device type of an image batch or a list of views."""
    return (inputs[0] if isinstance(inputs, list) else inputs).device.type


class Variant:
    """One method to measure: a model, a function that configures it (variants may share a model), its inputs."""

    def __init__(self, name: str, model, inputs, configure=None, memory_inputs=None):
        self.name, self.model, self.inputs = name, model, inputs
        self.memory_inputs = inputs if memory_inputs is None else memory_inputs
        self.configure = configure or (lambda: None)
        self.times: list[float] = []
        self.result: dict = {}


def measure(variants: list[Variant], batch: int, repeats: int, amp: bool) -> None:
    """Fill each variant's ``result``: training FLOPs per image (forward + backward), activations saved for backward
    per image (bytes), peak memory of one forward + backward on ``memory_inputs`` (bytes; gradients start unset: at
    a small batch the parameters' gradients set the peak, at a large one the activations) and the
    median step time (s, forward + backward + AdamW). Steps are timed round-robin across the variants, so a change
    of machine load hits all of them alike."""
    optimizers = {}
    for variant in variants:
        if id(variant.model) not in optimizers:
            params = [p for p in variant.model.parameters() if p.requires_grad]
            optimizers[id(variant.model)] = torch.optim.AdamW(params, lr=1e-4)
    cuda = inputs_device(variants[0].inputs) == "cuda"

    def step(variant):
        optimizer = optimizers[id(variant.model)]
        optimizer.zero_grad(set_to_none=True)
        forward_backward(variant.model, variant.inputs, amp)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for variant in variants:  # warm-up: optimizer state, kernels
        variant.configure()
        step(variant)
    for _ in range(repeats):
        for variant in variants:
            variant.configure()
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            step(variant)
            if cuda:
                torch.cuda.synchronize()
            variant.times.append(time.perf_counter() - start)
    for variant in variants:
        variant.configure()
        model, inputs = variant.model, variant.inputs
        if cuda:
            torch.cuda.synchronize()
            before = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            forward_backward(model, variant.memory_inputs, amp)
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - before
        else:
            tracker = TensorMemory()
            with tracker:
                forward_backward(model, variant.memory_inputs, amp)
            peak = tracker.peak
        optimizers[id(model)].zero_grad(set_to_none=True)
        with FlopCounterMode(display=False) as counter:
            forward_backward(model, inputs, amp)
        optimizers[id(model)].zero_grad(set_to_none=True)
        variant.result = dict(flops=counter.get_total_flops() / batch,
                              activations=saved_activations(model, inputs, amp) / batch,
                              memory=peak, time=statistics.median(variant.times))


def comparison(work: str, ours: float, peer_name: str, theirs: float, unit: str, note: str) -> str:
    """One line in run_all.py's comparison format (ratio = peer / ours: above 1, ours is cheaper)."""
    ratio = theirs / ours if ours else float("nan")

    def plain(value: float) -> str:  # 4 significant digits, never an exponent (run_all.py parses [\d.]+)
        return f"{value:.4g}" if 1e-3 <= abs(value) < 1e4 else f"{value:.4f}" if abs(value) < 1 else f"{value:.0f}"

    return (f"{work}: ours {plain(ours)} {unit} | {peer_name} {plain(theirs)} {unit} | ratio {ratio:.3f}x | "
            f"identical: {note}")


METRICS = (("flops", "train FLOPs/image", "GFLOP", 1e9, "FLOPs"),
           ("activations", "activations saved for backward/image", "MiB", 2 ** 20, "memory"),
           ("memory", "peak step memory at batch {memory_batch}", "MiB", 2 ** 20, "memory"),
           ("time", "step time at batch {batch}", "s", 1.0, None))


def report(variant: Variant, base: Variant, batch: int, memory_batch: int, seed: bool) -> None:
    """The comparison lines of one method against its base."""
    for key, what, unit, scale, seed_key in METRICS:
        saving = 1 - variant.result[key] / base.result[key]
        note = f"n/a (saving {saving:+.1%}"
        if seed and seed_key:
            note += f"; seed at throw 0.5: {SEED_SAVING[seed_key]:.0%}"
        work = f"{variant.name} {what.format(batch=batch, memory_batch=memory_batch)}"
        print(comparison(work, variant.result[key] / scale, base.name,
                         base.result[key] / scale, unit, note + ")"), flush=True)


def bench_prmim(args) -> None:
    """MAE vs partial reconstruction vs PR-MIM, ViT-B/16 at 224, mask ratio 0.75 (see the module docstring). The
    partial and PR-MIM variants share one model whose decoder is switched between the two recipes' settings."""
    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, 224, 224, device=args.device)
    large = torch.randn(args.memory_batch, 3, 224, 224, device=args.device)
    mae = Variant("MAE", build_model("mae_vit-base-p16_8xb512-amp-coslr-400e_in1k.py", args.device), images,
                  memory_inputs=large)
    model = build_model("prmim_vit-base-p16_8xb512-amp-coslr-400e_in1k.py", args.device)
    progressive = model.neck.progressive
    partial = recipe("partial_vit-base-p16_8xb512-amp-coslr-400e_in1k.py").model.neck
    prmim = recipe("prmim_vit-base-p16_8xb512-amp-coslr-400e_in1k.py").model.neck

    def setter(neck_cfg, throw):
        def configure():
            model.neck.throw_ratio = throw
            model.neck.sampling = neck_cfg.sampling
            model.neck.progressive = progressive if neck_cfg.progressive else None
        return configure

    variants = [mae] + [Variant(f"{label} throw {throw:.3g}", model, images, setter(cfg, throw), large)
                        for label, cfg in (("partial", partial), ("PR-MIM", prmim)) for throw in THROW_RATIOS]
    measure(variants, args.batch, args.repeats, args.amp)
    r = mae.result
    print(f"MAE ViT-B/16: {r['flops'] / 1e9:.2f} GFLOP/image (train), {r['activations'] / 2 ** 20:.0f} MiB "
          f"activations/image, {r['memory'] / 2 ** 20:.0f} MiB peak step memory at batch {args.memory_batch}, "
          f"{r['time']:.3f} s/step", flush=True)
    for variant in variants[1:]:
        report(variant, mae, args.batch, args.memory_batch, seed=variant.name.endswith("throw 0.5"))


def bench_mte(args) -> None:
    """MTE against its base: MoCo v3 ViT-S/16 (two 224 px views) and iBOT ViT-S/16 (the shipped recipes' models, 2
    global 224 px and 10 local 96 px views, also on the CPU: a tiny ViT would misstate the share of the per-token
    projection head): training overhead, and the exported backbone's (zero) inference overhead."""
    batch = max(args.batch, 2)  # the projection neck's BatchNorm needs two samples
    memory_batch = max(args.memory_batch, 2)
    torch.manual_seed(0)
    views = [torch.randn(batch, 3, 224, 224, device=args.device) for _ in range(2)]
    large = [torch.randn(memory_batch, 3, 224, 224, device=args.device) for _ in range(2)]
    pairs = [(Variant("MoCo v3", build_model("mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py", args.device),
                      views, memory_inputs=large),
              Variant("MTE (MoCo v3 ViT-S/16, 3 aux [CLS] + 2 pooled)",
                      build_model("mte_mocov3_vit-small-p16_16xb256-amp-coslr-300e_in1k.py", args.device), views,
                      memory_inputs=large))]
    tiny = False
    global_size, local_size, num_local = 224, 96, 10
    distill_views, samples = distill_inputs(batch, global_size, local_size, num_local, 16, args.device)
    distill_large, large_samples = distill_inputs(memory_batch, global_size, local_size, num_local, 16, args.device)
    pairs.append(tuple(
        Variant(name, WithSamples(build_distill_model(config, args.device, tiny),
                                  {batch: samples, memory_batch: large_samples}), distill_views,
                memory_inputs=distill_large)
        for name, config in (("iBOT", "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py"),
                             ("MTE (iBOT ViT-S/16, 3 aux [CLS] + 2 pooled)",
                              "mte_ibot_vit-small-p16_8xb128-coslr-100e_in1k.py"))))
    measure([variant for pair in pairs for variant in pair], batch, args.repeats, args.amp)
    for base, mte in pairs:
        report(mte, base, batch, memory_batch, seed=False)
        base_model, mte_model = (getattr(v.model, "model", v.model) for v in (base, mte))
        exported = {k.removeprefix("backbone."): v for k, v in mte_model.state_dict().items()
                    if k.startswith("backbone.")}
        same_names = list(exported) == [k.removeprefix("backbone.") for k in base_model.state_dict()
                                        if k.startswith("backbone.")]
        for model in (base_model.backbone, mte_model.backbone):
            model.eval()
        image = (base.inputs[0] if isinstance(base.inputs, list) else base.inputs)[:1]

        def inference_flops(backbone, image=image) -> int:
            with FlopCounterMode(display=False) as counter, torch.no_grad():
                backbone(image)
            return counter.get_total_flops()

        ours, theirs = inference_flops(mte_model.backbone), inference_flops(base_model.backbone)
        print(comparison(f"{mte.name.split(',')[0]}) exported backbone inference FLOPs/image", ours / 1e9, base.name,
                         theirs / 1e9, "GFLOP", f"{'yes' if same_names and ours == theirs else 'no'} (same parameter "
                         f"names: {'yes' if same_names else 'no'}, {len(exported)} tensors)"), flush=True)


DISTILL_RECIPES = {"iBOT": "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py",
                   "SERE": "sere_vit-small-p16_8xb128-coslr-100e_in1k.py",
                   "HSSL": "hssl_vit-base-p16_8xb32-amp-coslr-100e_in1k.py"}


class WithSamples(torch.nn.Module):
    """A self-distillation model whose ``loss(inputs, _)`` uses fixed data samples (block masks, crop boxes) of the
    inputs' batch size, so ``measure`` can run it like the other methods."""

    def __init__(self, model, samples: dict):
        super().__init__()
        self.model, self.samples = model, samples

    def loss(self, inputs, _samples):
        """The wrapped model's losses on ``inputs`` with the stored samples of that batch size."""
        return self.model.loss(inputs, self.samples[inputs[0].shape[0]])


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


def build_distill_model(config: str, device: str, tiny: bool):
    """The model of a shipped iBOT/SERE/HSSL recipe on ViT-S/16; ``tiny``: a 4-layer width-192 ViT and 1,024
    prototypes."""
    from mmengine.logging import MessageHub
    from mmpretrain.registry import MODELS

    model_cfg = copy.deepcopy(recipe(config).model)
    model_cfg.backbone.arch = "deit-small"  # every method on the same base (HSSL's recipe is ViT-B)
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
    batch, memory_batch = max(args.batch, 2), max(args.memory_batch, 2)  # SERE's relation heads use BatchNorm
    global_size, local_size, num_local = (64, 32, 4) if tiny else (224, 96, 10)
    variants = {}
    for name, config, local in (("iBOT", "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py", num_local),
                                ("SERE", "sere_vit-small-p16_8xb128-coslr-100e_in1k.py", num_local),
                                ("iBOT (2 global views)", "ibot_vit-small-p16_8xb128-coslr-100e_in1k.py", 0),
                                ("HSSL", "hssl_vit-base-p16_8xb32-amp-coslr-100e_in1k.py", 0)):
        views, samples = distill_inputs(batch, global_size, local_size, local, 16, args.device)
        large, large_samples = distill_inputs(memory_batch, global_size, local_size, local, 16, args.device)
        model = WithSamples(build_distill_model(config, args.device, tiny),
                            {batch: samples, memory_batch: large_samples})
        variants[name] = Variant(name, model, views, memory_inputs=large)
    measure(list(variants.values()), batch, args.repeats, args.amp)
    for name, variant in variants.items():
        r = variant.result
        print(f"{name} ({'tiny ViT' if tiny else 'ViT-S/16'}): {r['time']:.3f} s/step, {batch / r['time']:.1f} "
              f"images/s at batch {batch}, {r['flops'] / 1e9:.2f} GFLOP/image (train), {r['memory'] / 2 ** 20:.1f} "
              f"MiB peak step memory at batch {memory_batch}", flush=True)
    print("overhead the papers report: not in the sources this toolkit works from (spec, abstracts)", flush=True)
    report(variants["SERE"], variants["iBOT"], batch, memory_batch, seed=False)
    report(variants["HSSL"], variants["iBOT (2 global views)"], batch, memory_batch, seed=False)


BENCHES = {"prmim": bench_prmim, "mte": bench_mte, "distill": bench_distill}


def main() -> None:
    """Parse the options and run the chosen benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    parser.add_argument("--batch", type=int, default=2, help="images per step (CPU: keep it small)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per method after one warm-up step")
    parser.add_argument("--memory-batch", type=int, default=8,
                        help="images of the one step whose peak memory is measured (large enough that activations, "
                             "not the parameters' gradients, set the peak)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                        help="float16 autocast as the recipes train (default: on for cuda, off for cpu)")
    args = parser.parse_args()
    if args.amp is None:
        args.amp = args.device == "cuda"
    if args.device == "cpu":
        torch.set_num_threads(1)
    memory = "torch.cuda.max_memory_allocated" if args.device == "cuda" else "tensor storages (TorchDispatchMode)"
    print(f"device {args.device}, batch {args.batch}, repeats {args.repeats}, amp {args.amp}, peak memory counted "
          f"by {memory}, activations by saved-tensor hooks", flush=True)
    for name in args.only:
        BENCHES[name](args)


if __name__ == "__main__":
    main()
