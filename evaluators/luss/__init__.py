"""LUSS (ImageNet-S) evaluation: the mask codec, Hungarian matching and the official metrics on CPU, and the PASS
evaluator's attention-threshold sweep."""
from evaluators.luss.folders import accumulate_evaluation, accumulate_matching, evaluate_folders, match_folders
from evaluators.luss.masks import BACKGROUND, IGNORE, MaskFolder, decode_mask, encode_mask, write_mask
from evaluators.luss.matching import MatchCounter, match_lookup, read_match, write_match
from evaluators.luss.metrics import METRIC_KEYS, LUSSEvaluator, LUSSResult
from evaluators.luss.state import load_state, merge_states, save_state
from evaluators.luss.sweep import SweepResult, sweep_folders, threshold_grid

__all__ = ["BACKGROUND", "IGNORE", "METRIC_KEYS", "LUSSEvaluator", "LUSSResult", "MaskFolder", "MatchCounter",
           "accumulate_evaluation", "accumulate_matching", "decode_mask", "encode_mask", "evaluate_folders",
           "load_state", "match_folders", "match_lookup", "merge_states", "read_match", "save_state",
           "write_mask", "write_match", "SweepResult", "sweep_folders", "threshold_grid"]
