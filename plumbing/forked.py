"""A forked helper process for pure-Python work that holds the GIL (typed JSON decoding), so that a second core
takes part: ``Filling`` forks a child that fills columns in anonymous shared memory and leaves; ``result`` waits for
it and hands back the rows it filled, with no copy or pickling on the way.

Forking is safe for this kind of work: the child runs only Python and NumPy array code on data it inherited (no
BLAS, OpenMP, OpenCV or hotcoco call, whose thread pools do not survive a fork) and leaves with ``os._exit``, so
it flushes, closes and deletes nothing of the parent's. ``helper_available`` allows it only on Linux (a fork costs
a few milliseconds there), with no other Python thread (one could hold a lock the child's code takes), outside
daemonic processes (DataLoader and pool workers may not have children) and with at least two CPUs this process may
run on (``plumbing.jobs.default_workers``); elsewhere callers do the work themselves.
"""
from __future__ import annotations

import mmap
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from plumbing.errors import ToolkitRuntimeError
from plumbing.jobs import default_workers

_HEADER = np.dtype(np.int64).itemsize  # the child's row count; -1 until it finishes


def helper_available() -> bool:
    """Whether this process may fork a helper now (see the module docstring)."""
    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and not multiprocessing.current_process().daemon and default_workers() >= 2)


class Filling:
    """A forked child running ``fill(columns)`` on shared, zero-initialised columns of ``capacity`` rows each
    (``specs``: one ``(dtype, row shape)`` per column); ``fill`` returns how many rows it filled.

    ``result()`` waits for the child and returns the filled rows (views into the shared memory, which lives as long
    as they do), or None when the child failed (an exception, a signal, more rows than ``capacity``). Leaving the
    ``with`` block (or ``close``) kills a child still running. Call only when ``helper_available()``.
    """

    def __init__(self, fill: Callable[[list], int], specs: Sequence[tuple], capacity: int):
        sizes = [np.dtype(dtype).itemsize * int(np.prod(shape, dtype=np.int64)) * capacity for dtype, shape in specs]
        memory = mmap.mmap(-1, _HEADER + sum(sizes))  # anonymous and shared with the child (MAP_SHARED)
        self._count = np.frombuffer(memory, np.int64, 1)
        self._count[0] = -1
        self._columns, offset = [], _HEADER
        for (dtype, shape), size in zip(specs, sizes):
            count = capacity * int(np.prod(shape, dtype=np.int64))
            self._columns.append(np.frombuffer(memory, dtype, count, offset).reshape(capacity, *shape))
            offset += size
        with warnings.catch_warnings():
            # Python 3.12+ warns about forking with threads alive; NumPy's idle BLAS pool is one (see above)
            warnings.simplefilter("ignore", DeprecationWarning)
            self._pid = os.fork()
        if self._pid == 0:
            self._run_child(fill, capacity)

    def _run_child(self, fill: Callable[[list], int], capacity: int) -> None:
        code = 1
        try:
            filled = int(fill(self._columns))
            if 0 <= filled <= capacity:
                self._count[0] = filled
                code = 0
        except BaseException:  # noqa: BLE001 - the parent sees the exit code and does the work itself
            pass
        finally:
            os._exit(code)

    def result(self) -> list[np.ndarray] | None:
        """Wait for the child: the filled rows of each column, or None when it failed."""
        if self._pid is None:
            raise ToolkitRuntimeError("Filling.result() called twice or after close()")
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        filled = int(self._count[0])
        if os.waitstatus_to_exitcode(status) != 0 or filled < 0:
            return None
        return [column[:filled] for column in self._columns]

    def close(self) -> None:
        """Kill and reap the child when it is still running (nothing when ``result`` was called)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> "Filling":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
