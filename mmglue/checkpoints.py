"""MMEngine checkpoints that load under torch's ``weights_only`` default (torch >= 2.6).

A ``Runner`` checkpoint holds, besides tensors, the message hub's ``HistoryBuffer`` objects with their NumPy arrays
and scalars. Two things stop ``torch.load(weights_only=True)``: those globals are not allow-listed, and MMEngine
pickles each buffer's statistics methods as ``getattr(HistoryBuffer, 'min')`` -- allow-listing ``getattr`` would
defeat the safe loader. So buffers are pickled as plain constructor arguments (a copyreg reducer: the methods are
class-level and come back with the class), and the data-only globals are allow-listed. Checkpoints written by any
run that imports a plug-in (``aodraw.mmdet``, ``imagenet_s.mmseg``: both call ``allow_mmengine_checkpoints``)
then load with the safe default, including ``--resume``; ``publish_checkpoint``
rewrites older trusted files that way.
"""
from __future__ import annotations

import _codecs
import copyreg
import io
import os

import numpy as np

from plumbing.errors import BadInputError
from plumbing.files import atomic_write_bytes


def _numpy_globals() -> list:
    dtypes = [type(np.dtype(t)) for t in (np.float64, np.float32, np.float16, np.int64, np.int32, np.bool_)]
    core = getattr(np, "_core", None) or np.core
    return [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype, _codecs.encode, *dtypes]


def _reduce_history_buffer(buffer):
    log, count = buffer.data
    return type(buffer), (log, count, buffer.max_length)


def allow_mmengine_checkpoints() -> None:
    """Pickle ``HistoryBuffer`` without function references, and allow-list the data-only globals of MMEngine
    checkpoints for ``torch.load(weights_only=True)``."""
    import torch
    from mmengine.logging import HistoryBuffer

    copyreg.pickle(HistoryBuffer, _reduce_history_buffer)
    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_globals()])


def publish_checkpoint(src: str | os.PathLike, dst: str | os.PathLike) -> dict:
    """Rewrite a TRUSTED checkpoint (read without ``weights_only``) as weights and metadata only, which loads under
    the safe default anywhere: for checkpoints of runs that imported neither plug-in (their message hub holds
    ``getattr`` references). Keeps ``state_dict`` and ``meta``; drops optimizer, schedulers and message hub.
    Returns the written ``meta``."""
    import torch

    checkpoint = torch.load(src, map_location="cpu", weights_only=False)
    if not isinstance(checkpoint, dict):
        raise BadInputError(f"{src}: not a checkpoint (a {type(checkpoint).__name__}, not a dict)")
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BadInputError(f"{src}: no state_dict of tensors")
    kept = ("dataset_meta", "mmdet_version", "mmseg_version", "epoch", "iter", "experiment_name")
    meta = {k: v for k, v in (checkpoint.get("meta") or {}).items() if k in kept}
    buffer = io.BytesIO()
    torch.save({"state_dict": state, "meta": meta}, buffer)
    atomic_write_bytes(dst, buffer.getvalue())
    return meta
