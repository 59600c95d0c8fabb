"""The stylesheet and the sorting script of the leaderboard site (``plumbing.site``), kept as text so that the site
needs no package data and no network."""

STYLE = """\
:root { color-scheme: light; --ink: #1b1f23; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .6rem 0; }
a { color: var(--accent); }
nav { font-size: .9rem; }
.scroll { overflow-x: auto; margin: 1rem 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .55rem; text-align: left; white-space: nowrap; }
thead th { background: #f6f8fa; vertical-align: bottom; }
td.num, thead th[data-type="number"] { text-align: right; }
tbody th { font-weight: 600; }
tr.reference { background: #fff8e1; font-style: italic; }
.badge { font-size: .75rem; font-style: normal; border: 1px solid #b08800; color: #7a5d00; border-radius: .6rem;
         padding: 0 .4rem; }
.note, .hint, .status { color: var(--muted); font-size: .85rem; }
tr.reference .note { font-size: .75rem; }
th button { font: inherit; font-weight: 600; color: inherit; background: none; border: 0; padding: 0;
            cursor: pointer; text-align: inherit; }
th button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
th[aria-sort="descending"] button::after { content: " \\25BC"; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: .9rem; }
details { margin: 1rem 0; }
summary { cursor: pointer; font-weight: 600; }
"""

SCRIPT = """\
// Sorting for tables of class "sortable": each column header becomes a button (keyboard-operable);
// numbers sort by their data-value, undefined values last. Without this script the tables keep their order.
(function () {
  "use strict";
  function keyOf(cell, numeric) {
    var raw = cell.getAttribute("data-value");
    if (raw === null) { raw = cell.textContent.trim(); }
    if (numeric) { return raw === "" ? null : parseFloat(raw); }
    return raw.toLowerCase();
  }
  function sortTable(table, index, header, status) {
    var numeric = header.getAttribute("data-type") === "number";
    var now = header.getAttribute("aria-sort");
    var order = now === "descending" ? "ascending" : now === "ascending" ? "descending"
      : header.getAttribute("data-first") || (numeric ? "descending" : "ascending");
    var sign = order === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, position) {
      return { row: row, key: keyOf(row.cells[index], numeric), position: position };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return a.key === b.key ? a.position - b.position : a.key === null ? 1 : -1;
      }
      if (a.key < b.key) { return -sign; }
      if (a.key > b.key) { return sign; }
      return a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", order);
    if (status) { status.textContent = "Sorted by " + header.textContent.trim() + ", " + order + "."; }
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var status = document.getElementById("sort-status");
    var hint = document.getElementById("sort-hint");
    if (hint) { hint.hidden = false; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      var button = document.createElement("button");
      button.type = "button";
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      button.addEventListener("click", function () { sortTable(table, index, header, status); });
    });
  });
})();
"""
