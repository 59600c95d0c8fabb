"""The entry points: ``python -m aodraw`` (also the torchrun entry of the pre-training trainer), ``python -m
imagenet_s`` and ``tools/infer.py`` start and share the command line's options and error convention."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("args, shown", [
    (["-m", "aodraw", "--help"], "pretrain"),
    (["-m", "aodraw", "pretrain", "train", "--help"], "torchrun --nproc-per-node N -m aodraw pretrain train"),
    (["-m", "imagenet_s", "--help"], "prepare"),
    (["-m", "uss", "--help"], "evaluate"),
    (["tools/infer.py", "--help"], "--slices SIZE:GAP"),
])
def test_entry_points_start(args, shown):
    run = _run(*args)
    assert run.returncode == 0, run.stderr
    assert shown in " ".join(run.stdout.split())


def test_tools_infer_follows_the_error_convention(tmp_path):
    run = _run("tools/infer.py", "no-such-config", str(tmp_path / "missing.pth"), "--out", str(tmp_path / "r.json"))
    assert run.returncode == 2 and run.stderr.startswith("error: ") and len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr and not (tmp_path / "r.json").exists()
