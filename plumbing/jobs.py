"""Parallel work over files: the worker-count rule, ``--shard K/N``, the two job loops and the progress policy.

* Workers: ``--workers`` when given, else the CPUs this process may run on (``os.sched_getaffinity``, which honours
  ``taskset``, cgroup cpusets and SLURM's binding; ``os.cpu_count`` where it does not exist).
* ``--shard K/N``: items K-1, K-1+N, ... of the sorted work list, so a SLURM array or any batch scheduler splits a
  run deterministically and the shards' merged results equal one run over everything.
* Pools come from a fork server, never ``fork``: a process forked after OpenCV or LibRaw's OpenMP ran threads can
  deadlock. Workers x their threads stay within the cores (``plumbing.workers``).
* Progress: one tqdm bar on stderr, shown only when stderr is a terminal (never in logs or pipes) and when the
  caller did not turn it off.
"""
from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any, TypeVar

from tqdm import tqdm

from plumbing.errors import BadInputError, ToolkitError, ToolkitRuntimeError
from plumbing.workers import limit_threads, reuse_freed_memory, start_worker, worker_threads

T = TypeVar("T")
CONVERTED, SKIPPED, FAILED = "converted", "skipped", "failed"


def default_workers() -> int:
    """The number of CPUs this process may run on (its affinity mask), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def resolve_workers(workers: int | None, items: int) -> int:
    """Processes to start for ``items`` work items: ``workers`` (default ``default_workers()``), never more than
    the items, at least 1."""
    return max(1, min(workers or default_workers(), items or 1))


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"K/N"`` (1 <= K <= N) into (K, N). Raises BadInputError naming ``--shard`` otherwise."""
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise BadInputError(f"--shard: expected K/N such as 1/4, got {text!r}") from None
    if not 1 <= k <= n:
        raise BadInputError(f"--shard: K must lie in 1..N, got {text!r}")
    return k, n


def take_shard(items: Sequence[T], shard: tuple[int, int] | None) -> list[T]:
    """Items K-1, K-1+N, K-1+2N, ... of ``items`` (every item when ``shard`` is None); shards are disjoint and
    together cover the list."""
    if shard is None:
        return list(items)
    k, n = shard
    return list(items[k - 1::n])


def progress_bar(total: int | None, desc: str, unit: str, enabled: bool = True, **options) -> tqdm:
    """The toolkit's progress bar (see the module docstring); ``options`` go to tqdm (``unit_scale``...)."""
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False,
                disable=None if enabled else True, **options)


@dataclass
class Summary:
    """What a per-file job loop did: converted and skipped names, and (name, reason) of the failed ones."""

    converted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """One ``failed NAME: reason`` line per failure, then the counts."""
        out = [f"failed {name}: {reason}" for name, reason in self.failed]
        out.append(f"converted {len(self.converted)}, skipped {len(self.skipped)} (already complete), "
                   f"failed {len(self.failed)}")
        return out

    def raise_if_failed(self) -> None:
        """Raise ToolkitRuntimeError (exit code 1) naming the first failed items, if any failed."""
        if self.failed:
            names = ", ".join(n for n, _ in self.failed[:5])
            raise ToolkitRuntimeError(f"{len(self.failed)} image(s) failed: {names}"
                                      f"{' ...' if len(self.failed) > 5 else ''}")


def failure_reason(exc: BaseException) -> str:
    """How a failed item is reported: the toolkit's and the OS's messages as they are (they name the file and the
    cause), anything else prefixed with its type."""
    if isinstance(exc, (ToolkitError, OSError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_JOB: Callable[[str], bool] | None = None  # the job of a pool worker, set once by its initializer


def _set_job(threads: int, job: bytes) -> None:
    global _JOB
    _JOB = start_worker(threads, job)


def _guarded(name: str, job: Callable[[str], bool] | None = None) -> tuple[str, str, str]:
    try:
        return name, CONVERTED if (job or _JOB)(name) else SKIPPED, ""
    except Exception as exc:  # one bad item must not stop the others: report it by name
        return name, FAILED, failure_reason(exc)


def run_jobs(names: Sequence[str], job: Callable[[str], bool], workers: int | None = None,
             shard: tuple[int, int] | None = None, desc: str = "converting", progress: bool = True) -> Summary:
    """Run ``job(name)`` over the shard of the sorted ``names`` in ``workers`` processes; the loop of every
    converter.

    ``job`` returns True when it wrote its outputs and False when they were already complete (see
    ``plumbing.files.needs_writing``); an exception fails that name only, with ``failure_reason`` as its reason.
    The job is sent to each worker once, then only names. Each worker runs its libraries on
    ``worker_threads(workers, cores)`` threads; one worker runs in this process with all of them. The process that
    runs the jobs keeps freed memory for the next item (``plumbing.workers``)."""
    names = take_shard(sorted(names), shard)
    workers = resolve_workers(workers, len(names))
    summary = Summary()
    with progress_bar(len(names), desc, "image", progress) as bar:
        if workers == 1:
            reuse_freed_memory()  # this process does the work (a library caller keeps up to 1 GiB of free heap)
            for name in names:
                _record(summary, _guarded(name, job), bar)
        else:
            setup = (worker_threads(workers, default_workers()), pickle.dumps(job))
            with get_context("forkserver").Pool(workers, initializer=_set_job, initargs=setup) as pool:
                for result in pool.imap_unordered(_guarded, names):
                    _record(summary, result, bar)
    return summary


def _record(summary: Summary, result: tuple[str, str, str], bar: tqdm) -> None:
    name, status, reason = result
    if status == FAILED:
        summary.failed.append((name, reason))
    else:
        getattr(summary, status).append(name)
    bar.update()


def run_chunks(task: Callable[[list[T]], Any], items: list[T], workers: int | None = None, progress: bool = True,
               desc: str = "", unit: str = "img") -> Iterator[Any]:
    """Yield ``task(chunk)`` for chunks of ``items``, in worker processes when ``workers`` > 1; the loop of the
    scorers, whose workers return small partial states that the caller merges.

    Chunks hold at most 64 items and there are about 8 per worker, so the bar moves and the load balances.
    Each worker runs its libraries on ``worker_threads(workers, cores)`` threads, as ``run_jobs``'s do. The first
    error cancels the remaining chunks and is raised."""
    workers = max(1, workers or default_workers())
    size = max(1, min(64, len(items) // (workers * 8) or 1))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    with progress_bar(len(items), desc, unit, progress) as bar:
        if workers == 1 or len(chunks) <= 1:
            for chunk in chunks:
                yield task(chunk)
                bar.update(len(chunk))
            return
        with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=get_context("forkserver"),
                                 initializer=limit_threads,
                                 initargs=(worker_threads(workers, default_workers()),)) as pool:
            pending = {pool.submit(task, chunk): len(chunk) for chunk in chunks}
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield future.result()
                        bar.update(pending.pop(future))
            finally:
                for future in pending:
                    future.cancel()
