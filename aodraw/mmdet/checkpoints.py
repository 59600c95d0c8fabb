"""MMEngine checkpoints under torch's ``weights_only`` default: the shared implementation is
``mmglue.checkpoints``; this module keeps the names the detection plug-in and ``tools/publish_model.py`` use."""
from mmglue.checkpoints import allow_mmengine_checkpoints, publish_checkpoint

__all__ = ["allow_mmengine_checkpoints", "publish_checkpoint"]
