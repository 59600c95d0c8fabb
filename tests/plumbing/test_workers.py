"""Worker setup: threads per worker within the cores, the limits in place before the job's libraries load."""
import os
import pickle
import sys

import cv2
import pytest

from plumbing.workers import THREAD_VARIABLES, reuse_freed_memory, start_worker, worker_threads


def test_workers_times_threads_stay_within_the_cores():
    assert [worker_threads(w, 16) for w in (1, 2, 3, 16, 32)] == [16, 8, 5, 1, 1]
    assert worker_threads(2, 2) == 1 and worker_threads(0, 4) == 4


def test_start_worker_limits_threads_then_unpickles_the_job(monkeypatch):
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    before = cv2.getNumThreads()
    try:
        job = start_worker(1, pickle.dumps(sorted))
        assert job is sorted
        assert all(os.environ[name] == "1" for name in THREAD_VARIABLES)
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_reuse_freed_memory_is_taken_by_glibc():
    assert reuse_freed_memory() is True
