"""PR-MIM / MTE tests build MMPretrain models by registry name: each test starts in MMPretrain's default scope (an
earlier test in the same process may have left MMDetection's as the current one), single-threaded and seeded.
Without the train extra the folder is not collected (outside CI, as tests/mmdet); torch and MMEngine are imported
inside the fixture."""
import importlib.util

import pytest
from train_extra import CI

collect_ignore_glob = [] if CI or importlib.util.find_spec("mmpretrain") else ["test_*.py"]


@pytest.fixture(autouse=True)
def _mmpretrain_scope():
    import torch
    from mmengine.registry import DefaultScope

    torch.manual_seed(0)
    torch.set_num_threads(1)
    with DefaultScope.overwrite_default_scope("mmpretrain"):
        yield
