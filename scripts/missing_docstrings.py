"""List public functions, methods and classes without a docstring (``python scripts/missing_docstrings.py [DIR...]``).

Public: the name and every enclosing class's name do not start with ``_``; functions nested in
functions are skipped. Used by tests/unit/test_docstrings.py.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def missing(package: str) -> Iterator[str]:
    """``path:line name`` of every public definition without a docstring under ``package``."""
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        yield from _walk(tree, path.relative_to(ROOT).as_posix(), "")


def _walk(node: ast.AST, where: str, prefix: str) -> Iterator[str]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if child.name.startswith("_"):
                continue
            if ast.get_docstring(child) is None and not _is_overload(child):
                yield f"{where}:{child.lineno} {prefix}{child.name}"
            if isinstance(child, ast.ClassDef):
                yield from _walk(child, where, f"{prefix}{child.name}.")


def _is_overload(fn: ast.AST) -> bool:
    decorators = getattr(fn, "decorator_list", [])
    return any(isinstance(d, ast.Name) and d.id == "overload" for d in decorators)


if __name__ == "__main__":
    found = [m for pkg in (sys.argv[1:] or ["engine", "ballot_scan", "api", "pbcount"]) for m in missing(pkg)]
    print("\n".join(found))
    print(f"{len(found)} public definitions without a docstring", file=sys.stderr)
