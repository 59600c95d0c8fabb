"""mapped_bytes maps a regular file, reads anything else (an empty file, a pipe), and fails as read_bytes does."""
import mmap
import os
import threading

import pytest

from plumbing.errors import BadInputError, MissingInputError
from plumbing.jsonio import mapped_bytes, read_bytes


def test_a_regular_file_is_mapped_and_an_empty_one_read(tmp_path):
    (tmp_path / "a.json").write_bytes(b"[1, 2]")
    (tmp_path / "empty.json").write_bytes(b"")
    with mapped_bytes(tmp_path / "a.json", "detections") as data:
        assert isinstance(data, mmap.mmap) and data[:] == b"[1, 2]"
    with mapped_bytes(tmp_path / "empty.json", "detections") as data:
        assert data == b""


def test_a_pipe_is_read(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(b"[3]"))
    writer.start()
    with mapped_bytes(fifo, "detections") as data:
        assert data == b"[3]"
    writer.join()


@pytest.mark.parametrize("name, error", [("missing.json", MissingInputError), ("", BadInputError)])
def test_errors_are_those_of_read_bytes(tmp_path, name, error):
    with pytest.raises(error) as mapped:
        with mapped_bytes(tmp_path / name, "detections"):
            pass
    with pytest.raises(error) as read:
        read_bytes(tmp_path / name, "detections")
    assert str(mapped.value) == str(read.value)
