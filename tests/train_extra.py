"""The ``train`` extra (torch, torchvision, mmcv with its compiled ops, mmdet, mmpretrain, mmsegmentation) for the
tests that need it: skipped when it is not installed, but under ``CI=true`` a missing piece fails (``make test``
installs it, so CI proves it works)."""
import os

import pytest

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_train_extra(module_level: bool = False) -> None:
    try:
        import mmcv.ops  # noqa: F401
        import mmdet  # noqa: F401
        import mmpretrain  # noqa: F401
        import mmseg  # noqa: F401
        import torchvision  # noqa: F401
        from mmcv.ops import nms  # noqa: F401
    except ImportError as exc:
        if CI:
            raise
        pytest.skip(f"the train extra is not installed ({exc}); `make test` installs it",
                    allow_module_level=module_level)
