"""An interrupted PASS pretrain resumes with SwAV's queue (and the random state) it had: the resumed run ends with
exactly the weights of an uninterrupted one, and dropping the saved queue changes them."""
from __future__ import annotations

import importlib

import pytest
from pass_tree import make_tree

from imagenet_s.cli.pass_cmd import load_config

torch = pytest.importorskip("torch")
train = importlib.import_module("imagenet_s.pass.train")


class Interrupted(Exception):
    pass


def _stop_at_epoch_2(message: str) -> None:
    if message.startswith("pretrain epoch 2/"):  # logged before epoch 2's checkpoint: the latest stays epoch 1
        raise Interrupted(message)


def _weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_resumed_pretrain_continues_with_the_saved_queue(tmp_path):
    root = make_tree(tmp_path / "tree")
    cfg = load_config("pass_tiny", ("pretrain.epochs=2", "pretrain.epoch_queue_starts=0"))
    logs = []
    whole = train.run_stage("pretrain", cfg, root, tmp_path / "whole", log=logs.append)

    cut = tmp_path / "cut"
    with pytest.raises(Interrupted):
        train.run_stage("pretrain", cfg, root, cut, log=_stop_at_epoch_2)
    latest = torch.load(cut / "pretrain_latest.pth", map_location="cpu", weights_only=True)
    queues = latest["queues"]
    length = cfg["pretrain"]["queue_length"]
    assert latest["epoch"] == 1 and queues.shape == (1, 2, length, cfg["model"]["feat_dim"])
    assert bool((queues[0, :, -1].abs().sum(dim=1) > 0).all())  # full after one epoch: used from the next step
    dropped = tmp_path / "dropped"
    dropped.mkdir()
    torch.save({**latest, "queues": None}, dropped / "pretrain_latest.pth")

    logs = []
    resumed = train.run_stage("pretrain", cfg, root, cut, log=logs.append)
    assert any("epoch 1; queue restored" in line for line in logs), logs
    a, b = _weights(whole), _weights(resumed)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    logs = []
    emptied = train.run_stage("pretrain", cfg, root, dropped, log=logs.append)
    assert any("no queue saved" in line for line in logs), logs
    c = _weights(emptied)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_a_queue_of_another_shape_is_not_restored():
    saved = torch.ones(2, 2, 6, 4)
    queue, note = train.restore_queue(saved, 1, 2, 6, 4, torch.device("cpu"))
    assert torch.equal(queue, saved[1]) and note == "queue restored"
    queue, note = train.restore_queue(saved, 0, 1, 6, 4, torch.device("cpu"))  # saved by 2 processes, 1 now
    assert queue is None and "starting it empty" in note
