"""What both inference commands (``aodraw infer``, ``imagenet-s infer``) decide alike: the device, the autocast
dtype, and the speed report's latency percentiles and peak memory."""
from __future__ import annotations

import resource

import numpy as np
import torch

from plumbing.errors import BadInputError

AMP_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
AMP_NAMES = {dtype: name for name, dtype in AMP_DTYPES.items()}
MAX_DEFAULT_WORKERS = 8


def choose_device(device: str | None) -> torch.device:
    """``cuda`` or ``cpu``; by default CUDA when there is one."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cuda", "cpu"):
        raise BadInputError(f"--device: expected cuda or cpu, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise BadInputError("--device cuda: no CUDA device is available here (use --device cpu)")
    return torch.device(device)


def choose_amp(amp: str | None, device: torch.device) -> torch.dtype | None:
    """The autocast dtype: by default bf16 on CUDA (fp16 where bf16 is unsupported) and none on the CPU, where bf16
    is allowed (fast only on CPUs with bf16 units) and fp16 refused."""
    if amp is None:
        amp = "off" if device.type == "cpu" else ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
    if amp == "off":
        return None
    if amp not in AMP_DTYPES:
        raise BadInputError(f"--amp: expected bf16, fp16 or off, got {amp!r}")
    if device.type == "cpu" and amp == "fp16":
        raise BadInputError("--amp fp16: half precision needs --device cuda; on the CPU use --amp bf16 or off")
    return AMP_DTYPES[amp]


def percentiles(seconds: list) -> dict:
    """``{"p50", "p95"}`` of durations in seconds, in milliseconds (NaN when there are none)."""
    values = np.array(seconds) * 1000 if seconds else np.full(1, np.nan)
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95))}


def peak_memory_mb(device: torch.device) -> float:
    """Peak memory in MiB: CUDA memory allocated on ``device``, else this process's peak resident set size."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2 ** 20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def speed_fields(batch_times: list, image_times: list, device: torch.device) -> dict:
    """The speed part of an inference report, shared by ``aodraw infer`` and ``imagenet-s infer``: ``batches``,
    ``latency_batch_ms`` and ``latency_image_ms`` (``percentiles``), ``peak_memory_mb`` and ``peak_memory_kind``."""
    return {"batches": len(batch_times), "latency_batch_ms": percentiles(batch_times),
            "latency_image_ms": percentiles(image_times), "peak_memory_mb": peak_memory_mb(device),
            "peak_memory_kind": "cuda allocated" if device.type == "cuda" else "process RSS"}


def speed_rows(summary: dict, done: str) -> list[list[str]]:
    """The report table's rows of ``speed_fields`` plus throughput (``images_per_s``; ``done`` says what ran):
    [label, value or p50, p95, note] each."""
    batch, image = summary["latency_batch_ms"], summary["latency_image_ms"]
    return [["throughput (images/s)", f"{summary['images_per_s']:.2f}", "", done],
            ["latency per batch (ms)", f"{batch['p50']:.1f}", f"{batch['p95']:.1f}", f"{summary['batches']} batches"],
            ["latency per image (ms)", f"{image['p50']:.1f}", f"{image['p95']:.1f}", ""],
            ["peak memory (MB)", f"{summary['peak_memory_mb']:.0f}", "", summary["peak_memory_kind"]]]
