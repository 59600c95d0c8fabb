"""A static leaderboard site, benchmark-neutral: boards (one sortable table each) and one page per submission.

The site is a self-contained folder: ``index.html`` lists the boards, ``<board>/index.html`` holds its table and
``<board>/<submission>.html`` a submission's metrics and plots, with one stylesheet and one small script at the root
(no CDN, no network; pages open from disk as well as from any static server). Tables are semantic (caption, ``th``
with ``scope``) and rendered already in a sensible order, so the pages read fine without JavaScript; the script only
adds sorting, as ``button`` elements in the column headers (keyboard-operable, ``aria-sort`` kept current).

``build_site`` rebuilds a site atomically: the new site is written into a temporary folder beside the target, then
swapped in by renames. Boards of other benchmarks already in the target are kept, so both benchmarks may share one
site. Benchmarks describe their boards with ``Board``/``Column``/``Page``/``Table`` built from the same row dicts
their CSV/JSON come from; this module only renders them.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from plumbing.errors import BadInputError
from plumbing.site_assets import SCRIPT, STYLE

MARKER = ".leaderboard-site"  # a file at the root: the folder may be replaced by a rebuild
MANIFEST = "board.json"


@dataclass(frozen=True)
class Column:
    """A table column: ``key`` in the row dicts, the header ``label``, ``numeric`` values shown as ``value * scale``
    with ``digits`` decimals (None, NaN and negative values, pycocotools' -1, show as undefined), ``shade`` to tint
    cells by value within the column, ``title``, an explanation shown on hover, and ``ascending_first`` for columns
    where lower is better (a rank): the first sort by it is ascending."""

    key: str
    label: str
    numeric: bool = True
    scale: float = 1.0
    digits: int = 1
    shade: bool = False
    title: str = ""
    ascending_first: bool = False


@dataclass(frozen=True)
class Table:
    """A table of ``rows`` (dicts keyed by the columns' keys). A row may carry ``_page`` (the slug of its
    submission page: the first column links there), ``_reference`` (True: a published baseline, marked) and
    ``_note`` (shown after the first cell). ``sorted_by`` names the column the rows are already sorted by
    (descending), marked with ``aria-sort``. A ``collapsed`` table (a long one, on a submission page) sits in a
    ``details`` element after the plots, open on demand (no script needed)."""

    caption: str
    columns: tuple[Column, ...]
    rows: list[dict]
    sorted_by: str | None = None
    collapsed: bool = False


@dataclass(frozen=True)
class Page:
    """A submission page: ``slug`` (its file name without ``.html``), ``title``, ``facts`` (label, text) pairs, its
    tables and ``images`` ((PNG file, alt text) pairs, copied into the site)."""

    slug: str
    title: str
    facts: list[tuple[str, str]]
    tables: list[Table]
    images: list[tuple[Path, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Board:
    """One benchmark board: ``slug`` (its folder), ``benchmark`` and ``title`` for the index, a ``description``
    paragraph, the sortable ``table`` and the submission ``pages``."""

    slug: str
    benchmark: str
    title: str
    description: str
    table: Table
    pages: list[Page] = field(default_factory=list)


def registry_entries(module: str, attribute: str = "RECIPES") -> list[dict]:
    """The entries of a recipes registry (``module.attribute``: dicts, or objects with ``to_dict()``, dataclasses or
    plain attributes) as dicts, for the published reference rows of a board. An empty list when the module cannot be
    imported or has no such registry: boards then simply have no reference rows."""
    try:
        registry = importlib.import_module(module)
    except ImportError:
        return []
    entries = []
    for item in getattr(registry, attribute, None) or ():
        if isinstance(item, dict):
            entries.append(dict(item))
        elif hasattr(item, "to_dict"):
            entries.append(dict(item.to_dict()))
        elif dataclasses.is_dataclass(item):
            entries.append(dataclasses.asdict(item))
        elif hasattr(item, "__dict__"):
            entries.append(dict(vars(item)))
    return entries


def page_slug(name: str, digest: str) -> str:
    """A submission page's file name (without ``.html``): the file name's stem made URL-safe, then the first 8 hex
    digits of its sha256 ``digest`` (unique on a board, stable across rebuilds)."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(name).stem).strip("-") or "submission"
    return f"{stem[:60]}-{digest[:8]}"


def is_defined(value) -> bool:
    """Whether ``value`` is a number to show: not None, not NaN, not negative (-1 marks undefined metrics)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def cell_text(column: Column, value) -> str:
    """How a cell shows ``value`` (numbers rounded to ``column.digits`` after scaling; undefined as an en dash)."""
    if not column.numeric:
        return "" if value is None else str(value)
    return f"{value * column.scale:.{column.digits}f}" if is_defined(value) else "\u2013"


def _shade(column: Column, rows: list[dict]):
    values = [r.get(column.key) for r in rows if is_defined(r.get(column.key))]
    if not column.shade or not values:
        return lambda value: ""
    low, high = min(values), max(values)

    def style(value) -> str:
        if not is_defined(value):
            return ""
        level = 1.0 if high == low else (value - low) / (high - low)
        return f' style="background-color: rgba(26, 127, 85, {0.08 + 0.42 * level:.3f})"'
    return style


def render_table(table: Table, sortable: bool = False) -> str:
    """The HTML ``<table>`` of ``table`` (``class="sortable"`` when the script should add sorting)."""
    shades = [_shade(c, table.rows) for c in table.columns]
    head = []
    for column in table.columns:
        attrs = ' scope="col"' + (' data-type="number"' if column.numeric else "")
        if column.title:
            attrs += f' title="{escape(column.title)}"'
        if column.ascending_first:
            attrs += ' data-first="ascending"'
        if table.sorted_by == column.key:
            attrs += ' aria-sort="descending"'
        head.append(f"<th{attrs}>{escape(column.label)}</th>")
    body = []
    for row in table.rows:
        cells = []
        for i, (column, shade) in enumerate(zip(table.columns, shades)):
            value = row.get(column.key)
            shown = cell_text(column, value)
            text = escape(shown)
            data = (f"{value * column.scale:.10g}" if is_defined(value) else "") if column.numeric else shown
            if i == 0:
                if row.get("_page"):
                    text = f'<a href="{escape(row["_page"])}.html">{text}</a>'
                if row.get("_reference"):
                    text += ' <span class="badge">published</span>'
                if row.get("_note"):
                    text += f' <span class="note">{escape(row["_note"])}</span>'
                cells.append(f'<th scope="row" data-value="{escape(data)}">{text}</th>')
            else:
                cls = ' class="num"' if column.numeric else ""
                cells.append(f'<td{cls} data-value="{escape(data)}"{shade(value)}>{text}</td>')
        cls = ' class="reference"' if row.get("_reference") else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    sort = ' class="sortable"' if sortable else ""
    return (f"<table{sort}><caption>{escape(table.caption)}</caption>\n<thead><tr>{''.join(head)}</tr></thead>\n"
            f"<tbody>\n" + "\n".join(body) + "\n</tbody></table>")


def _document(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{escape(title)}</title>\n'
            f'<link rel="icon" href="data:,">\n<link rel="stylesheet" href="{up}style.css">\n'
            f'<script src="{up}sort.js" defer></script>\n</head>\n<body>\n{body}\n</body>\n</html>\n')


def _board_html(board: Board) -> str:
    table = render_table(board.table, sortable=True)
    return _document(board.title, (
        f'<nav><a href="../index.html">All leaderboards</a></nav>\n<main>\n<h1>{escape(board.title)}</h1>\n'
        f"<p>{escape(board.description)}</p>\n"
        '<p class="hint" id="sort-hint" hidden>Activate a column header to sort by it.</p>\n'
        f'<div class="scroll">{table}</div>\n<p role="status" class="status" id="sort-status"></p>\n</main>'), 1)


def _page_html(board: Board, page: Page, images: list[tuple[str, str]]) -> str:
    facts = "\n".join(f"<dt>{escape(k)}</dt><dd>{_linked(v)}</dd>" for k, v in page.facts)
    tables = "\n".join(f'<div class="scroll">{render_table(t)}</div>' for t in page.tables if not t.collapsed)
    figures = "\n".join(f'<figure><img src="{escape(src)}" alt="{escape(alt)}"><figcaption>{escape(alt)}'
                        "</figcaption></figure>" for src, alt in images)
    figures += "".join(f'\n<details><summary>{escape(t.caption)} ({len(t.rows)} rows)</summary>'
                       f'<div class="scroll">{render_table(t)}</div></details>' for t in page.tables if t.collapsed)
    return _document(f"{page.title} \u2013 {board.title}", (
        f'<nav><a href="index.html" rel="up">Back to {escape(board.title)}</a> | '
        f'<a href="../index.html">All leaderboards</a></nav>\n<main>\n<h1>{escape(page.title)}</h1>\n'
        f"<dl>\n{facts}\n</dl>\n{tables}\n{figures}\n</main>"), 1)


def _linked(text: str) -> str:
    if text.startswith(("https://", "http://")) and " " not in text:
        return f'<a href="{escape(text)}">{escape(text)}</a>'
    return escape(text)


def _index_html(title: str, manifests: list[dict]) -> str:
    rows = "\n".join(f'<li><a href="{escape(m["slug"])}/index.html">{escape(m["title"])}</a> '
                     f'({m["submissions"]} submissions)<br><span class="note">{escape(m["description"])}</span></li>'
                     for m in manifests)
    return _document(title, f"<main>\n<h1>{escape(title)}</h1>\n<ul class=\"boards\">\n{rows}\n</ul>\n</main>", 0)


def _write_board(folder: Path, board: Board) -> None:
    folder.mkdir()
    (folder / "img").mkdir()
    for page in board.pages:
        images = []
        for i, (src, alt) in enumerate(page.images):
            name = f"img/{page.slug}-{i}-{Path(src).name}"
            shutil.copyfile(src, folder / name)
            images.append((name, alt))
        (folder / f"{page.slug}.html").write_text(_page_html(board, page, images), encoding="utf-8")
    (folder / "index.html").write_text(_board_html(board), encoding="utf-8")
    submissions = sum(1 for r in board.table.rows if not r.get("_reference"))
    manifest = {"slug": board.slug, "benchmark": board.benchmark, "title": board.title,
                "description": board.description, "submissions": submissions}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def check_site_folder(out: str | os.PathLike) -> Path:
    """``out`` as a Path when ``build_site`` may (re)build a site there: absent, empty, or a site it made. Commands
    call it before any work, so a refused ``--html`` folder leaves nothing written.

    Raises:
        BadInputError: ``out`` exists, is not empty and was not made by ``build_site``."""
    out = Path(out)
    if out.exists() and not (out / MARKER).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise BadInputError(f"{out}: exists and is not a leaderboard site made by this toolkit; "
                            "refusing to replace it (choose another --html folder)")
    return out


def build_site(out: str | os.PathLike, boards: list[Board], title: str = "Leaderboards") -> Path:
    """(Re)build the site at ``out`` with ``boards``, keeping the other boards a previous build left there.

    Written into a temporary folder beside ``out`` and swapped in by renames, so ``out`` is either the old or the
    new site, never a half-written one. Returns ``out/index.html``.
    Raises:
        BadInputError: ``out`` exists, is not empty and was not made by ``build_site`` (it is never replaced).
    """
    out = check_site_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        slugs = {b.slug for b in boards}
        if out.is_dir():
            for manifest in sorted(out.glob(f"*/{MANIFEST}")):
                if manifest.parent.name not in slugs:
                    shutil.copytree(manifest.parent, tmp / manifest.parent.name)
        for board in boards:
            _write_board(tmp / board.slug, board)
        manifests = [json.loads(m.read_text()) for m in sorted(tmp.glob(f"*/{MANIFEST}"))]
        (tmp / "index.html").write_text(_index_html(title, manifests), encoding="utf-8")
        (tmp / "style.css").write_text(STYLE, encoding="utf-8")
        (tmp / "sort.js").write_text(SCRIPT, encoding="utf-8")
        (tmp / MARKER).write_text("made by build_site; rebuilt as a whole\n", encoding="utf-8")
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "index.html"


def _swap(new: Path, out: Path) -> None:
    """Put folder ``new`` at ``out``: the old folder is renamed aside first, then removed."""
    if not out.exists():
        os.rename(new, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    os.rename(out, old)
    os.rename(new, out)
    shutil.rmtree(old, ignore_errors=True)
