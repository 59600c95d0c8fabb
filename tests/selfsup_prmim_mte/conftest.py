"""PR-MIM / MTE tests build MMPretrain models by registry name: each test starts in MMPretrain's default scope (an
earlier test in the same process may have left MMDetection's as the current one), single-threaded and seeded.
torch and MMEngine are imported inside the fixture: without the train extra the modules skip themselves."""
import pytest


@pytest.fixture(autouse=True)
def _mmpretrain_scope():
    import torch
    from mmengine.registry import DefaultScope

    torch.manual_seed(0)
    torch.set_num_threads(1)
    with DefaultScope.overwrite_default_scope("mmpretrain"):
        yield
