"""Loading MMEngine checkpoints under torch's ``weights_only`` default (torch >= 2.6).

A checkpoint saved by MMEngine's ``Runner`` holds, besides tensors, the message hub's ``HistoryBuffer`` objects
and the NumPy arrays and scalars they keep; ``torch.load(weights_only=True)`` refuses those globals. They are
plain data containers, so they are allow-listed once (no arbitrary code is unpickled).
"""
from __future__ import annotations

import numpy as np


def _numpy_globals() -> list:
    dtypes = [type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)]
    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype, *dtypes]


def allow_mmengine_checkpoints() -> None:
    """Allow-list the globals of MMEngine checkpoints for ``torch.load(weights_only=True)``."""
    import torch
    from mmengine.logging import HistoryBuffer

    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_globals()])
