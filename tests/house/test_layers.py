"""The tree's imports follow design.md's layering: no circle, no arrow up, nothing framework-bound in evaluators."""
import textwrap
from pathlib import Path

from layers import layering_problems

ROOT = Path(__file__).resolve().parents[2]


def test_the_tree_has_no_circle_and_no_arrow_up():
    assert layering_problems(ROOT) == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for top in ("plumbing", "evaluators", "data_manifests", "aodraw", "imagenet_s", "tools"):
        (tmp_path / top).mkdir(exist_ok=True)
    return tmp_path


def test_the_checker_finds_what_the_old_tree_had(tmp_path):
    # the shapes the tree had before the ground floor: a scorer on click, a downloader on the scorer package, the
    # command line's loop through the trainer, the plug-ins importing each other, a lazy import up
    root = _tree(tmp_path, {
        "evaluators/__init__.py": "",
        "evaluators/errors.py": "import sys\nimport click\n\ndef fail():\n    sys.exit(2)\n",
        "data_manifests/__init__.py": "",
        "data_manifests/fetch.py": "from evaluators.errors import fail\n",
        "aodraw/__init__.py": "",
        "aodraw/cli.py": "from aodraw.pretrain.cli import pretrain\n",
        "aodraw/pretrain/__init__.py": "",
        "aodraw/pretrain/cli.py": "def train():\n    from aodraw.pretrain.train import run\n",
        "aodraw/pretrain/train.py": "def run():\n    from aodraw.cli import main\n",
        "aodraw/mmdet/__init__.py": "from aodraw.pretrain import train\n",
        "aodraw/raw.py": "def read():\n    import aodraw.mmdet\n",
        "plumbing/__init__.py": "import imagenet_s\n",
        "imagenet_s/__init__.py": "",
    })
    problems = "\n".join(layering_problems(root))
    assert "evaluators.errors:2 imports click" in problems
    assert "evaluators.errors:5 calls sys.exit" in problems
    assert "data_manifests.fetch:1 imports evaluators.errors: data_manifests may only stand on lower floors" in problems
    assert "import circle: aodraw.cli -> aodraw.pretrain.cli -> aodraw.pretrain.train" in problems
    assert "aodraw.pretrain.train:2 imports aodraw.cli: an arrow up" in problems
    assert "the plug-ins mmdet and pretrain must not import each other" in problems
    assert "aodraw.raw:2 imports aodraw.mmdet: an arrow up" in problems
    assert "plumbing:1 imports imagenet_s: plumbing may only stand on lower floors" in problems


def test_a_clean_tree_passes(tmp_path):
    root = _tree(tmp_path, {
        "plumbing/__init__.py": "", "plumbing/errors.py": "",
        "evaluators/__init__.py": "from plumbing.errors import *\n",
        "aodraw/__init__.py": "", "aodraw/raw.py": "from evaluators import x\n",
        "aodraw/mmdet/__init__.py": "from aodraw.raw import read\n",
        "aodraw/cli/__init__.py": "from aodraw.cli import convert\nfrom aodraw.mmdet import y\n",
        "aodraw/cli/convert.py": "from aodraw.raw import read\n",
        "tools/train.py": "from aodraw.cli import main\n",
    })
    assert layering_problems(root) == []
