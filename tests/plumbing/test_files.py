"""Atomic writes give the mode a plain open() gives under the current umask (not tempfile's 0600), and the
resumable-output rule skips only complete outputs."""
import os
import stat

import numpy as np
import pytest

from plumbing.files import atomic_write_bytes, needs_writing, open_temp, save_npy, write_csv, write_json


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def test_written_files_get_the_umask_mode_of_a_plain_open(tmp_path, umask):
    with open(tmp_path / "plain", "w"):
        pass
    expected = 0o666 & ~umask
    assert _mode(tmp_path / "plain") == expected
    written = [atomic_write_bytes(tmp_path / "a.bin", b"x"), write_json(tmp_path / "r.json", {"AP": 0.5}),
               write_csv(tmp_path / "r.csv", ["a"], [[1]]), save_npy(tmp_path / "d" / "x.npy", np.zeros(3))]
    assert [oct(_mode(p)) for p in written] == [oct(expected)] * 4


def test_overwriting_takes_the_current_umask_not_the_old_file_mode(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("{}")
    target.chmod(0o600)
    old = os.umask(0o022)
    try:
        write_json(target, {"AP": 1.0})
    finally:
        os.umask(old)
    assert _mode(target) == 0o644


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "x.json", object())  # not bytes: the write fails after the temp exists
    assert list(tmp_path.iterdir()) == []


def test_needs_writing_skips_complete_outputs_and_cleans_stale_temps(tmp_path):
    out = tmp_path / "a.npy"
    fd, tmp = open_temp(out)  # an interrupted run's leftover
    os.close(fd)
    assert needs_writing(out) and not tmp.exists()
    out.write_bytes(b"\x93NUMPY")  # a truncated array: not complete
    assert needs_writing(out)
    save_npy(out, np.ones(4))
    assert not needs_writing(out)
    assert needs_writing(out, tmp_path / "a.json")  # one of two outputs missing: the job runs again


def test_load_numpy_refuses_what_is_not_a_numpy_file_without_numpys_pickle_advice(tmp_path):
    from plumbing.errors import BadInputError
    from plumbing.files import load_numpy

    for name, data in (("r.json", b'{"a": 1}'), ("pickled.npy", b"\x80\x04K\x01."), ("empty.npy", b"")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(BadInputError, match=f"{name}: not a NumPy .npy/.npz file") as info:
            load_numpy(tmp_path / name)
        assert "unsafely" not in str(info.value) and "allow_pickle" not in str(info.value)
    np.save(tmp_path / "a.npy", np.arange(3))
    np.savez(tmp_path / "b.npz", x=np.ones(2))
    assert load_numpy(tmp_path / "a.npy").tolist() == [0, 1, 2]
    with load_numpy(tmp_path / "b.npz") as data:
        assert data["x"].tolist() == [1.0, 1.0]
    with pytest.raises(FileNotFoundError):
        load_numpy(tmp_path / "missing.npy")


@pytest.mark.parametrize("script", ["imagenet_s", "uss"])
def test_merge_of_a_json_file_is_one_line_naming_it(tmp_path, script):
    import subprocess
    import sys

    (tmp_path / "r.json").write_text('{"a": 1}')
    np.save(tmp_path / "one.npy", np.zeros(3))
    for name in ("r.json", "one.npy"):
        run = subprocess.run([sys.executable, "-m", script, "merge", str(tmp_path / name)], capture_output=True,
                             text=True)
        assert run.returncode == 2 and run.stdout == ""
        assert run.stderr.startswith(f"error: {tmp_path / name}: not a ") and "state file" in run.stderr
        assert run.stderr.count("\n") == 1


def test_a_file_that_cannot_be_written_is_named_not_its_temporary_file(tmp_path):
    (tmp_path / "gt.json").write_text("{}")
    with pytest.raises(OSError, match=r"^cannot write .*gt\.json/x\.json: its folder cannot be made") as info:
        write_json(tmp_path / "gt.json" / "x.json", {})
    assert ".tmp" not in str(info.value)
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked").chmod(0o500)
    try:
        if os.access(tmp_path / "locked", os.W_OK):
            return  # root writes anywhere: the permission case cannot happen here
        with pytest.raises(PermissionError, match=r"^cannot write .*locked/x\.json \(Permission denied\)$"):
            write_json(tmp_path / "locked" / "x.json", {})
    finally:
        (tmp_path / "locked").chmod(0o700)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.json", "locked"]
