"""Every public function, class and method of the library has a docstring (``docstrings.undocumented``)."""
from __future__ import annotations

from pathlib import Path

from docstrings import undocumented

ROOT = Path(__file__).resolve().parents[2]


def test_library_is_documented():
    assert undocumented(ROOT) == []


def test_checker_reports_a_missing_docstring(tmp_path):
    (tmp_path / "plumbing").mkdir()
    (tmp_path / "plumbing" / "mod.py").write_text(
        '"""A module."""\n\n\ndef documented():\n    """Yes."""\n\n\ndef bare():\n    return 1\n\n\n'
        'def _private():\n    return 2\n\n\nclass Thing:\n    """A thing."""\n\n    def method(self):\n        pass\n',
        encoding="utf-8")
    assert undocumented(tmp_path) == ["plumbing/mod.py:8 bare", "plumbing/mod.py:19 Thing.method"]
