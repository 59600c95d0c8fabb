"""plumbing.forked: a forked child fills shared columns; failures come back as None, close kills a running child."""
import os
import sys
import time

import numpy as np
import pytest

from plumbing import forked
from plumbing.errors import ToolkitRuntimeError
from plumbing.jobs import default_workers

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or default_workers() < 2,
                                reason="no second CPU or no fork here")
SPECS = ((np.int64, ()), (np.float64, (4,)))


def fill_squares(columns):
    ids, boxes = columns
    ids[:5] = np.arange(5) ** 2
    boxes[:5] = np.arange(20).reshape(5, 4) / 2
    return 5


def test_the_child_fills_shared_columns_and_the_parent_reads_them():
    with forked.Filling(fill_squares, SPECS, capacity=8) as filling:
        ids, boxes = filling.result()
    assert ids.tolist() == [0, 1, 4, 9, 16] and ids.dtype == np.int64
    assert boxes.shape == (5, 4) and boxes[4].tolist() == [8.0, 8.5, 9.0, 9.5]
    assert os.getpid() == os.getpid()  # still the parent here: the child left with os._exit


@pytest.mark.parametrize("fill", [lambda columns: 1 // 0, lambda columns: 9, lambda columns: -1,
                                  lambda columns: os._exit(3)])
def test_a_failing_child_gives_none(fill):
    # an exception, more rows than the capacity, a negative count, a non-zero exit
    with forked.Filling(fill, SPECS, capacity=8) as filling:
        assert filling.result() is None


def test_leaving_the_block_kills_a_child_still_running():
    start = time.perf_counter()
    with forked.Filling(lambda columns: time.sleep(60) or 0, SPECS, capacity=1) as filling:
        pid = filling._pid
    assert time.perf_counter() - start < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left
    with pytest.raises(ToolkitRuntimeError, match="twice or after close"):
        filling.result()


def test_no_helper_in_a_process_with_other_threads():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not forked.helper_available()
    finally:
        stop.set()
        thread.join()
    # back to what the other threads of this test session allow (tqdm's monitor thread may outlive a CLI test)
    assert forked.helper_available() is (threading.active_count() == 1)
