"""RF-Next for the detection recipes: ``AODRawRunner`` is the shared ``mmglue.rfnext.RFNextRunner`` under the name
the AODRaw configs use (``runner_type = 'AODRawRunner'``), registered in MMDetection's ``RUNNERS``."""
from __future__ import annotations

from mmdet.registry import RUNNERS

from mmglue.rfnext import RFNextRunner, apply_rf_structure, apply_rfsearch, normalise_structure, rfsearch_hook_cfg

__all__ = ["AODRawRunner", "apply_rf_structure", "apply_rfsearch", "normalise_structure", "rfsearch_hook_cfg"]


@RUNNERS.register_module()
class AODRawRunner(RFNextRunner):
    """The shared RF-Next runner (``mmglue.rfnext.RFNextRunner``) under its detection name."""
