"""Which public definitions of the library have no docstring (design: every public function and class states
shapes, units, the errors it raises and the source of what it reproduces)."""
from __future__ import annotations

import ast
from pathlib import Path

LIBRARY = ("plumbing", "evaluators", "data_manifests", "aodraw", "imagenet_s", "uss")
SKIPPED = ("aodraw/configs", "imagenet_s/configs")


def undocumented(root: Path) -> list[str]:
    """``path:line name`` of every public module-level function or class, and public method of a public class,
    without a docstring. Private names (``_x``), dunders, overloads and properties' setters are not public API;
    ``__init__`` is documented by its class."""
    missing = []
    for top in LIBRARY:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(SKIPPED):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                missing += _check(node, rel, "")
    return missing


def _check(node, rel: str, owner: str) -> list[str]:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
        return []
    if any(isinstance(d, ast.Attribute) and d.attr == "setter" for d in getattr(node, "decorator_list", [])):
        return []
    name = f"{owner}{node.name}"
    found = [] if ast.get_docstring(node) else [f"{rel}:{node.lineno} {name}"]
    if isinstance(node, ast.ClassDef):
        for child in node.body:
            found += _check(child, rel, f"{name}.")
    return found
