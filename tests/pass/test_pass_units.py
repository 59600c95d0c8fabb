"""Hand-computed pieces of PASS: Sinkhorn-Knopp, the distance-matching bank and weighted k-NN, clustering scores."""
from __future__ import annotations

import importlib
import math
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
model = importlib.import_module("imagenet_s.pass.model")
dm = importlib.import_module("imagenet_s.pass.distance_match")
cluster = importlib.import_module("imagenet_s.pass.cluster")


def test_sinkhorn_rows_are_assignments_and_uniform_scores_stay_uniform():
    q = model.sinkhorn(torch.zeros(6, 4))
    assert torch.allclose(q, torch.full((6, 4), 0.25))
    scores = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    q = model.sinkhorn(scores, epsilon=0.05, iterations=3)
    assert torch.allclose(q.sum(dim=1), torch.ones(4))
    assert abs(q[:, 0].sum().item() - 2) < 0.2  # equal partition: about half the samples per prototype


def test_knn_vote_sums_weights_per_class():
    bank = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
    labels = torch.tensor([1, 2, 2])
    pixels = torch.tensor([[1.0, 0.96], [0.0, 0.28]]).view(2, 1, 2)  # pixels (1, 0) and (0.96, 0.28)
    # pixel 1: cosines 1 (class 1), 0 and 0.6 (class 2). T = 1: e^1 = 2.72 < e^0 + e^0.6 = 2.82.
    # pixel 2: cosines 0.96 (class 1), 0.28 and 0.80 (class 2). T = 1: e^0.96 = 2.61 < e^0.28 + e^0.8 = 3.55.
    assert dm.knn_labels(pixels, bank, labels, k=3, temperature=1.0).tolist() == [[2, 2]]
    # T = 0.07: e^14.3 > e^0 + e^8.6 and e^13.7 > e^4 + e^11.4, the nearest entry wins.
    assert dm.knn_labels(pixels, bank, labels, k=3, temperature=0.07).tolist() == [[1, 1]]
    # k = 1: only the nearest votes; k = 2 at T = 1: e^1 > e^0.6 and e^0.96 > e^0.8.
    assert dm.knn_labels(pixels, bank, labels, k=1, temperature=1.0).tolist() == [[1, 1]]
    assert dm.knn_labels(pixels, bank, labels, k=2, temperature=1.0).tolist() == [[1, 1]]


def test_bank_entries_are_normalised_class_means_without_ignore():
    feats = torch.tensor([[[1.0, 0.0], [1.0, 5.0]], [[0.0, 1.0], [1.0, 5.0]]])  # (D=2, 2, 2)
    mask = np.array([[0, 1], [1, 1000]])
    entries, classes = dm.bank_entries(feats, mask)
    assert classes == [0, 1]
    assert torch.allclose(entries[0], torch.tensor([1.0, 0.0]))
    s = math.sqrt(5)
    assert torch.allclose(entries[1], torch.tensor([1 / s, 2 / s]))  # mean (0.5, 1) of (0, 1) and (1, 1)


def test_cluster_scores_and_assignment():
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert cluster.cluster_scores(truth, np.array([3, 3, 1, 1, 2, 2])) == {"NMI": 100.0, "accuracy": 100.0}
    assert cluster.cluster_scores(truth, np.array([1, 1, 1, 1, 2, 2]))["accuracy"] == pytest.approx(400 / 6)
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert cluster.assign_clusters(x, np.array([[0.0, 3.0], [2.0, 0.1]])).tolist() == [2, 1]


def test_queue_fills_newest_first_and_joins_sinkhorn_once_full():
    train = importlib.import_module("imagenet_s.pass.train")
    prototypes = torch.eye(3)
    queue = torch.zeros(4, 3)
    first = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    q = train.assignments(first @ prototypes.t(), first, prototypes, queue, 0.05, 3)
    assert torch.allclose(q, model.sinkhorn(first @ prototypes.t()))  # the queue was empty: not used
    assert torch.equal(queue[:3], first) and queue[3].abs().sum() == 0
    second = torch.tensor([[1.0, 0, 0], [1.0, 0, 0]])
    train.assignments(second @ prototypes.t(), second, prototypes, queue, 0.05, 3)
    assert torch.equal(queue, torch.cat([second, first[:2]]))  # newest first, the oldest row dropped
    third = torch.tensor([[0.0, 0, 1.0]])
    q = train.assignments(third @ prototypes.t(), third, prototypes, queue, 0.05, 3)
    joint = model.sinkhorn(torch.cat([torch.cat([second, first[:2]]) @ prototypes.t(), third @ prototypes.t()]))
    assert torch.allclose(q, joint[-1:])  # full queue: computed together, the batch's rows returned


def test_lars_scales_each_tensor_by_its_trust_ratio():
    train = importlib.import_module("imagenet_s.pass.train")
    w = torch.nn.Parameter(torch.tensor([3.0, 4.0]))  # |w| = 5
    opt = train.make_optimizer([w], {"base_lr": 1.0, "weight_decay": 0.0, "lars_eta": 0.001})
    w.grad = torch.tensor([0.6, 0.8])  # |g| = 1: trust ratio 0.001 * 5 / 1 = 0.005
    opt.step()
    assert torch.allclose(w.detach(), torch.tensor([3 - 0.003, 4 - 0.004]))
    sgd = train.make_optimizer([w], {"base_lr": 1.0, "weight_decay": 0.0, "lars_eta": 0})
    assert type(sgd) is torch.optim.SGD


@pytest.mark.parametrize("override, message", [
    ("pretrian.epochs=1", "has no key 'pretrian'"),
    ("pretrain.nosuch=1", "has no key 'pretrain.nosuch'"),
    ("pretrain.epochs=one", "not a Python literal (the config has 2)"),
    ("pretrain.epochs=[1", "not a Python literal"),
    ("pretrain.epochs=1.5", "expected a int (the config has 2)"),
    ("pretrain", "expected key=value"),
])
def test_cfg_options_typos_and_wrong_types_are_refused(override, message):
    from imagenet_s.cli.pass_cmd import load_config
    from plumbing.errors import BadInputError

    with pytest.raises(BadInputError, match=re.escape(message)):
        load_config("pass_tiny", (override,))


def test_cfg_options_of_the_right_type_apply():
    from imagenet_s.cli.pass_cmd import load_config

    cfg = load_config("pass_tiny", ("pretrain.epochs=1", "pretrain.base_lr=1", "crops.global_scale=[0.3, 1.0]"))
    assert cfg["pretrain"]["epochs"] == 1 and cfg["pretrain"]["base_lr"] == 1
    assert tuple(cfg["crops"]["global_scale"]) == (0.3, 1.0)
