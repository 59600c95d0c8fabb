"""The peers' own test data (cocoapi, faster-coco-eval, hotcoco, detectron2, torchmetrics, MMDetection) scored
bit-identically to pycocotools: each suite's shared checker, run as a user runs it, imports our evaluators
(``evaluators.detection``, ``evaluators.errors``) and the ``aodraw`` console script."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT.parent / "shared" / "peer_suites"


@pytest.mark.parametrize("suite", sorted(p.name for p in SUITES.iterdir() if (p / "run.sh").is_file()))
def test_peer_suite_passes(suite):
    run = subprocess.run(["bash", str(SUITES / suite / "run.sh")], cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_the_evaluators_name_their_errors_for_importers():
    from evaluators.errors import BadInputError
    from plumbing.errors import BadInputError as ToolkitBadInputError

    assert BadInputError is ToolkitBadInputError and issubclass(BadInputError, ValueError)
    assert sys.modules["evaluators.errors"].__all__
