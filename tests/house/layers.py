"""The layering rules of design.md, written once, and a checker of a source tree's imports against them.

Packages, lowest first: ``plumbing`` (the ground floor) <- ``evaluators``, ``data_manifests``, ``mmglue`` (the
OpenMMLab glue both plug-ins share) <- ``aodraw``, ``imagenet_s``, ``uss`` (the USS command line and data commands,
built like a dataset package) <- ``tools``. Arrows point down only; packages on the same floor never import each
other. Inside a dataset package: the command line (``cli``, ``__main__``) over the plug-ins (``mmdet``, ``mmseg``,
``pretrain``, ``selfsup``, ``pass``, which never import each other) over everything else (converters, builders, io,
raw).
Every import counts, also the ones inside functions, and no module may take part in an import circle.
``evaluators`` imports neither click, torch nor an OpenMMLab package and never calls ``sys.exit``.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

FLOORS = {"plumbing": 0, "evaluators": 1, "data_manifests": 1, "mmglue": 1, "aodraw": 2, "imagenet_s": 2,
          "uss": 2, "tools": 3}
DATASET_PACKAGES = ("aodraw", "imagenet_s", "uss")
COMMAND_LINE = ("cli", "__main__")
PLUG_INS = ("mmdet", "mmseg", "pretrain", "selfsup", "pass")
FRAMEWORK_FREE = "evaluators"
NOT_IN_FRAMEWORK_FREE = ("click", "torch", "torchvision", "mmengine", "mmcv", "mmdet", "mmpretrain", "mmseg")
SKIPPED = ("aodraw/configs", "imagenet_s/configs")  # MMEngine config files, not modules


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the layered packages under ``root``."""
    files = {}
    for top in FLOORS:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if not rel.startswith(SKIPPED):
                files[module_name(root, path)] = path
    return files


def imports_of(name: str, path: Path, known: set[str]) -> tuple[list[Import], list[Import], list[int]]:
    """(imports of project modules, imports of outside modules, lines calling sys.exit) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside, outside, exits = [], [], []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit"
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "sys"):
            exits.append(node.lineno)
        for target in targets:
            hit = next((t for t in _prefixes(target) if t in known), None)
            (inside if hit else outside).append(Import(name, hit or target, node.lineno))
    return inside, outside, exits


def _prefixes(dotted: str) -> list[str]:
    parts = dotted.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def tier(module: str) -> tuple[str, int, str]:
    """(top package, rank inside it, plug-in name) of a module of a dataset package."""
    parts = module.split(".")
    sub = parts[1] if len(parts) > 1 else ""
    if sub in COMMAND_LINE:
        return parts[0], 2, ""
    if sub in PLUG_INS:
        return parts[0], 1, sub
    return parts[0], 0, ""


def direction_problem(imp: Import) -> str | None:
    """Why an import of one project module by another breaks the layering, else None."""
    src_top, dst_top = imp.source.split(".")[0], imp.target.split(".")[0]
    where = f"{imp.source}:{imp.line} imports {imp.target}"
    if src_top != dst_top:
        if FLOORS[dst_top] >= FLOORS[src_top]:
            return f"{where}: {src_top} may only stand on lower floors, not on {dst_top}"
        return None
    if src_top not in DATASET_PACKAGES:
        return None
    (_, src_rank, src_plugin), (_, dst_rank, dst_plugin) = tier(imp.source), tier(imp.target)
    if src_rank == dst_rank == 1 and src_plugin != dst_plugin:
        return f"{where}: the plug-ins {src_plugin} and {dst_plugin} must not import each other"
    if dst_rank > src_rank:
        return f"{where}: an arrow up (from {('a lower module', 'a plug-in')[src_rank]} to the "\
               f"{('', 'plug-in', 'command line')[dst_rank]})"
    return None


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import circles (strongly connected components of more than one module, or a self-import)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):  # Tarjan, iterative enough for this tree's depth
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def layering_problems(root: Path) -> list[str]:
    """Every breach of the rules above in the tree under ``root``, one line each (empty: the house stands)."""
    files = source_files(root)
    known = set(files)
    problems, edges = [], {}
    for name, path in files.items():
        inside, outside, exits = imports_of(name, path, known)
        for imp in inside:
            if imp.target != name and not imp.target.startswith(f"{name}."):  # a package importing its own parts
                edges.setdefault(name, set()).add(imp.target)
            problem = direction_problem(imp)
            if problem:
                problems.append(problem)
        if name.split(".")[0] == FRAMEWORK_FREE:
            problems += [f"{name}:{imp.line} imports {imp.target}: {FRAMEWORK_FREE} stays framework-free"
                         for imp in outside if imp.target.split(".")[0] in NOT_IN_FRAMEWORK_FREE]
            problems += [f"{name}:{line} calls sys.exit: only the command line exits" for line in exits]
    problems += [f"import circle: {' -> '.join(c)}" for c in circles(edges)]
    return problems
