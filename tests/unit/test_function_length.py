"""No function in the installed package is longer than a screen and a half (80 lines).

A long function hides its steps; the fix is to name them. Counted from the `def` line to the last
line of the body (decorators and the docstring included), nested functions on their own as well as
inside the function that holds them.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "game_market_pipeline"
MAX_LINES = 80


def long_functions(root: Path = PACKAGE, limit: int = MAX_LINES) -> dict[str, int]:
    """`path:qualified.name` → its line count, for every function over `limit` lines under `root`."""
    found: dict[str, int] = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        _visit(tree, path.relative_to(root).as_posix(), "", limit, found)
    return found


def _visit(node: ast.AST, where: str, prefix: str, limit: int, found: dict[str, int]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                lines = (child.end_lineno or child.lineno) - first + 1
                if lines > limit:
                    found[f"{where}:{name}"] = lines
            _visit(child, where, f"{name}.", limit, found)
        else:
            _visit(child, where, prefix, limit, found)


def test_the_counter_finds_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(81))
    (tmp_path / "mod.py").write_text(
        f"class A:\n    def short(self):\n        return 1\n\n\ndef long():\n{body}\n"
    )
    assert long_functions(tmp_path) == {"mod.py:long": 82}
    assert long_functions(tmp_path, limit=82) == {}


def test_no_function_over_80_lines() -> None:
    over = long_functions()
    assert over == {}, "\n".join(f"{name}: {lines} lines (max {MAX_LINES})" for name, lines in over.items())
