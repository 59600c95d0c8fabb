"""Detection evaluation: COCO metrics and the AODRaw protocol with per-condition results."""
from evaluators.detection.core import DetectionEvaluator, DetectionResult, evaluate_detections
from evaluators.detection.presets import PRESETS, Preset

__all__ = ["DetectionEvaluator", "DetectionResult", "Preset", "PRESETS", "evaluate_detections"]
