"""Plain aligned text tables for terminals and logs."""
from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence], title: str | None = None,
                 align_left: int = 1) -> str:
    """A text table: the first ``align_left`` (label) columns left-aligned, the rest right-aligned, a dashed rule
    under the header and ``title`` (if any) above it. Cells are formatted with ``str``."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row):
        return "  ".join(c.ljust(w) if i < align_left else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

    out = [title] if title else []
    out += [line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]]
    return "\n".join(out)


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals (0.1234 -> '12.34'); '-' where undefined (None, -1 or NaN)."""
    return "-" if value is None or value != value or value < 0 else f"{100 * value:.2f}"
