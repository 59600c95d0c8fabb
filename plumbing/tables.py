"""Plain aligned text tables for terminals and logs."""
from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence], title: str | None = None,
                 align_left: int = 1, left: Sequence[str] = ()) -> str:
    """A text table: the first ``align_left`` (label) columns and the columns named in ``left`` left-aligned, the
    rest right-aligned, a dashed rule under the header and ``title`` (if any) above it; no trailing spaces. Cells
    are formatted with ``str``."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lefts = [i < align_left or headers[i] in left for i in range(len(widths))]

    def line(row):
        return "  ".join(c.ljust(w) if lf else c.rjust(w) for c, w, lf in zip(row, widths, lefts)).rstrip()

    out = [title] if title else []
    out += [line(cells[0]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells[1:]]
    return "\n".join(out)


def clip(text, width: int = 60) -> str:
    """``text`` (any value, as ``str``) cut to at most ``width`` characters, an ellipsis marking the cut (long refusal
    reasons in a console table; files keep them whole)."""
    text = str(text)
    return text if len(text) <= width else text[:width - 1] + "\u2026"


def percent(value: float | None) -> str:
    """A fraction as a percentage with two decimals (0.1234 -> '12.34'); '-' where undefined (None, -1 or NaN)."""
    return "-" if value is None or value != value or value < 0 else f"{100 * value:.2f}"
