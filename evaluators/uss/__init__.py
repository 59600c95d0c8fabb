"""USS evaluation (STEGO / PiCIE protocols on COCO-Stuff, Cityscapes, Potsdam) on the mergeable pixel state, with the
LUSS switches (image co-occurrence matching, the official mean) to compare with ImageNet-S."""
from evaluators.uss.datasets import DATASETS, PRESETS, Preset, preset
from evaluators.uss.folders import accumulate_tree, evaluate_tree, read_names, select_images
from evaluators.uss.metrics import EXTRAS, MATCHINGS, MEANS, USSEvaluator, USSResult, joint_counts
from evaluators.uss.stream import USSMetric

__all__ = ["DATASETS", "EXTRAS", "MATCHINGS", "MEANS", "PRESETS", "Preset", "USSEvaluator", "USSMetric", "USSResult",
           "accumulate_tree", "evaluate_tree", "joint_counts", "preset", "read_names", "select_images"]
