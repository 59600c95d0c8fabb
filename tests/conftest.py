"""Suite-wide: the ``train`` marker for tests that need the train extra (torch, torchvision, mmcv with ops, mmdet,
mmpretrain, mmsegmentation).

``make test-core`` deselects them (``-m "not train"``). Without the extra the MMDetection folder cannot even be
imported (its helpers import mmdet), so outside CI it is left out of collection; under ``CI=true`` it never is, and a
missing extra fails the run."""
import importlib.util
from pathlib import Path

import pytest
from train_extra import CI

HERE = Path(__file__).parent
TRAIN_FOLDERS = tuple(HERE / name for name in ("mmdet", "mmseg", "stack", "uss_train", "selfsup", "selfsup_prmim_mte",
                                              "pass"))
TRAIN_MODULES = (HERE / "pretrain" / "test_trainer.py", HERE / "pretrain" / "test_unprocess.py")

collect_ignore_glob = [] if CI or importlib.util.find_spec("mmcv") else ["mmdet/*", "mmseg/*"]


def pytest_configure(config):
    config.addinivalue_line("markers", "train: needs the train extra (deselect with -m 'not train')")
    config.addinivalue_line("markers", "browser: drives Debian's headless Chromium (tests/board/headless.py: skipped "
                                       "when it is missing, except under CI=true)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(item.fspath)
        if path in TRAIN_MODULES or any(folder in path.parents for folder in TRAIN_FOLDERS):
            item.add_marker(pytest.mark.train)
