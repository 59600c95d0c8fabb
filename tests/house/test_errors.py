"""The library raises only the toolkit's errors (each also the built-in type a caller would catch), and merging
evaluator states refuses a mismatch the same way in detection and LUSS."""
import ast
import builtins
from pathlib import Path

import pytest

from evaluators.detection import DetectionEvaluator
from evaluators.luss import LUSSEvaluator, MatchCounter
from plumbing.errors import BadInputError, IncompatibleError, MissingInputError, UnknownNameError, exit_code

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("plumbing", "evaluators", "data_manifests", "aodraw", "imagenet_s", "uss")
BUILTIN_ERRORS = {name for name, value in vars(builtins).items()
                  if isinstance(value, type) and issubclass(value, BaseException)} - {"SystemExit", "StopIteration"}


def builtin_raises(root: Path) -> list[str]:
    """``path:line Name`` of every ``raise`` of a built-in exception type in the library."""
    found = []
    for top in LIBRARY:
        for path in sorted((root / top).rglob("*.py")):
            if "configs" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Raise) and node.exc is not None:
                    call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                    if isinstance(call, ast.Name) and call.id in BUILTIN_ERRORS:
                        found.append(f"{path.relative_to(root)}:{node.lineno} {call.id}")
    return found


def test_the_library_raises_only_toolkit_errors():
    assert builtin_raises(ROOT) == []


def test_the_check_sees_a_builtin_raise(tmp_path):
    (tmp_path / "evaluators").mkdir()
    (tmp_path / "evaluators" / "x.py").write_text("def f():\n    raise ValueError('bad')\n")
    assert builtin_raises(tmp_path) == ["evaluators/x.py:2 ValueError"]


def test_toolkit_errors_are_the_builtins_callers_catch_and_read_plainly():
    err = UnknownNameError("recipe 'x': unknown")
    assert isinstance(err, KeyError) and isinstance(err, ValueError) and str(err) == "recipe 'x': unknown"
    assert isinstance(MissingInputError("a.json: not found"), FileNotFoundError)
    assert exit_code(err) == 2 and exit_code(OSError("disk")) == 1 and exit_code(ZeroDivisionError()) is None


def test_merging_mismatched_states_is_refused_alike():
    gt = {"images": [{"id": 1, "width": 10, "height": 10}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 5, 5], "area": 25}]}
    other = {**gt, "images": [{"id": 2, "width": 10, "height": 10}], "annotations": []}
    refused = []
    for left, right in ((DetectionEvaluator(gt, preset="coco"), DetectionEvaluator(other, preset="coco")),
                        (LUSSEvaluator(50), LUSSEvaluator(300)), (MatchCounter(50), MatchCounter(300))):
        with pytest.raises(BadInputError) as info:
            left.merge(right)
        refused.append(type(info.value))
    assert refused == [IncompatibleError] * 3
