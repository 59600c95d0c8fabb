"""The label maps against the facts file (``../shared/reference/uss/FACTS.md``), read from its tables."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from evaluators.uss import labels, preset

FACTS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "uss" / "FACTS.md"


def _rows(prefix: str) -> list[list[str]]:
    """Table rows of FACTS.md whose first cell is a number, in the section starting with ``prefix``."""
    text = FACTS.read_text(encoding="utf-8")
    section = text[text.index(prefix):]
    section = section[:section.index("\n## ", 1)] if "\n## " in section[1:] else section
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 2 and re.fullmatch(r"\d+", cells[0]):
            rows.append(cells)
    return rows


def test_coco_fine_to_27_and_compact_171_match_the_full_table():
    rows = [r for r in _rows("### Full table") if len(r) == 7]
    assert len(rows) == 182
    coarse, compact = labels.coco27_table(), labels.coco171_table()
    names27 = preset("cocostuff27").names
    for value, compact_id, label_id, fine, kind, coarse_id, coarse_name in rows:
        v = int(value)
        assert int(label_id) == v + 1
        assert coarse[v] == int(coarse_id) and names27[int(coarse_id)] == coarse_name
        assert ("unused" in kind) == (compact_id == "—")
        if compact_id == "—":
            assert compact[v] == labels.INVALID and labels.COCO_FINE_NAMES[v] == ""
        else:
            assert compact[v] == int(compact_id) and preset("cocostuff171").names[int(compact_id)] == fine
        assert (int(coarse_id) < labels.COCO27_THINGS) == kind.startswith("thing")
    assert coarse[255] == compact[255] == labels.VOID
    assert (coarse[182:255] == labels.INVALID).all()


def test_coco27_summary_counts():
    rows = [r for r in _rows("### Coarse classes") if len(r) == 5]
    assert len(rows) == 27
    for coarse_id, name, kind, _fine, counts in rows:
        assert preset("cocostuff27").names[int(coarse_id)] == name
        assert (kind == "thing") == (int(coarse_id) < labels.COCO27_THINGS)
        used, total = (int(x) for x in counts.split("/"))
        members = np.flatnonzero(labels.coco27_table()[:182] == int(coarse_id))
        assert len(members) == total
        assert sum(1 for v in members if v not in labels.COCO_UNUSED) == used


def test_cityscapes_and_potsdam():
    table = labels.cityscapes27_table()
    rows = _rows("## 2. Cityscapes")
    pairs = [(int(r[0]), int(r[1]), r[2]) for r in rows] + [(int(r[4]), int(r[5]), r[6]) for r in rows if len(r) > 6
                                                             and r[4].isdigit()]
    assert len(pairs) == 27
    for label_id, cls, name in pairs:
        assert table[label_id] == cls and labels.CITYSCAPES27[cls] == name
    assert (table[:7] == labels.VOID).all() and (table[34:] == labels.VOID).all()
    potsdam = labels.potsdam3_table()
    assert potsdam[[0, 4, 1, 5, 2, 3, 255]].tolist() == [0, 0, 1, 1, 2, 2, labels.VOID]
    assert potsdam[6] == labels.INVALID
