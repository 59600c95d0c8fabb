"""How the job loop's worker processes are set up, so that N workers on N cores run N images at a time.

* Threads: OpenCV runs its parallel loops (demosaic, rotation) on a pool of one thread per core in every process,
  so N workers would run N x cores threads on N cores; OpenMP (rawpy's LibRaw links libgomp; it starts threads
  only in ``postprocess``, which the converters do not call) and OpenBLAS size their pools the same way. Each worker
  gets ``worker_threads`` of them (cores // workers, at least 1). The OpenMP/OpenBLAS/OpenCV variables are read when
  the library is loaded, so the worker sets them before it unpickles its job (whose module imports the libraries);
  OpenCV, when already loaded, is told with ``cv2.setNumThreads``.
* Memory: a 6000x4000 RAW's arrays (the 48 MB mosaic and what is computed from it) lie above glibc's mmap
  threshold, so each is a fresh mapping that the kernel zero-fills page by page on first touch and unmaps when
  freed: a third of a RAW converter's time went to these page faults (system time), and workers side by side
  compete for the memory bandwidth they use. ``reuse_freed_memory`` makes the process keep freed memory for the
  next image instead (glibc's ``mallopt``; elsewhere nothing changes).
"""
from __future__ import annotations

import ctypes
import os
import pickle
import sys
from collections.abc import Callable

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
KEEP_FREED_BYTES = 1 << 30  # blocks up to 1 GiB come from the reused heap; up to 1 GiB of free heap is kept


def worker_threads(workers: int, cores: int) -> int:
    """Threads per worker so that ``workers`` x threads <= ``cores`` (at least 1)."""
    return max(1, cores // max(1, workers))


def limit_threads(threads: int) -> None:
    """Make this process's OpenMP, OpenBLAS and OpenCV pools ``threads`` wide: the environment variables for the
    libraries loaded from now on, ``cv2.setNumThreads`` when OpenCV is loaded already."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(threads)


def reuse_freed_memory() -> bool:
    """Keep freed memory in this process for reuse instead of returning it to the kernel (glibc only); True when
    the C library took the setting."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, KEEP_FREED_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES))


def start_worker(threads: int, job: bytes) -> Callable:
    """Set up a freshly started worker (``limit_threads``, ``reuse_freed_memory``), then unpickle and return its
    ``job``: unpickling imports the job's libraries, which then read the limits."""
    limit_threads(threads)
    reuse_freed_memory()
    job = pickle.loads(job)
    limit_threads(threads)  # OpenCV, if the job's modules loaded it
    return job
