"""The shared converter loop: one job per image, a process pool, progress, ``--shard`` and a summary.

A job writes its outputs atomically and reports whether it converted or skipped (outputs already complete);
any exception is a failure of that image only, reported with its name and reason, never a traceback.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context

from tqdm import tqdm

from evaluators.errors import ToolkitError
from evaluators.shards import take_shard

CONVERTED, SKIPPED, FAILED = "converted", "skipped", "failed"


@dataclass
class Summary:
    converted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"failed {name}: {reason}" for name, reason in self.failed]
        out.append(f"converted {len(self.converted)}, skipped {len(self.skipped)} (already complete), "
                   f"failed {len(self.failed)}")
        return out

    def raise_if_failed(self) -> None:
        if self.failed:
            raise ToolkitError(f"{len(self.failed)} image(s) failed: {', '.join(n for n, _ in self.failed[:5])}"
                               f"{' ...' if len(self.failed) > 5 else ''}")


_JOB: Callable[[str], bool] | None = None  # the job of a pool worker, set once by its initializer


def _set_job(job: Callable[[str], bool]) -> None:
    global _JOB
    _JOB = job


def _guarded(name: str, job: Callable[[str], bool] | None = None) -> tuple[str, str, str]:
    try:
        return name, CONVERTED if (job or _JOB)(name) else SKIPPED, ""
    except ToolkitError as exc:  # the message says what is wrong in plain words
        return name, FAILED, str(exc)
    except Exception as exc:  # one bad image must not stop the others: report it by name
        return name, FAILED, f"{type(exc).__name__}: {exc}"


def run_jobs(names: Sequence[str], job: Callable[[str], bool], workers: int | None = None,
             shard: tuple[int, int] | None = None, desc: str = "converting") -> Summary:
    """Run ``job(name)`` (True: converted, False: skipped) over the shard of ``names`` in ``workers`` processes.

    Workers come from a fork server (LibRaw uses OpenMP, which is not fork-safe once used) and receive the job
    once, then only names."""
    names = take_shard(sorted(names), shard)
    workers = max(1, min(workers or os.cpu_count() or 1, len(names) or 1))
    summary = Summary()
    with tqdm(total=len(names), desc=desc, unit="image") as bar:
        if workers == 1:
            for name in names:
                _record(summary, _guarded(name, job), bar)
        else:
            with get_context("forkserver").Pool(workers, initializer=_set_job, initargs=(job,)) as pool:
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
