"""The ingestion core stays a short pipeline of typed steps (issue 22): `extract_endpoint` fits a
screen, no ingest function grows past 80 lines, and records are checked on one path only."""

from __future__ import annotations

import ast
from pathlib import Path

INGEST = Path(__file__).resolve().parents[2] / "include" / "game_market_pipeline" / "ingest"


def _functions() -> list[tuple[str, ast.FunctionDef]]:
    out = []
    for module in sorted(INGEST.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                out.append((module.name, node))
    return out


def _length(node: ast.AST) -> int:
    return node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]


def test_extract_endpoint_reads_in_a_screen():
    (extract,) = [n for m, n in _functions() if m == "extract.py" and n.name == "extract_endpoint"]
    assert _length(extract) <= 60


def test_no_ingest_function_is_over_80_lines():
    long = [f"{m}:{n.name} ({_length(n)} lines)" for m, n in _functions() if _length(n) > 80]
    assert long == []


def test_records_are_checked_on_one_path():
    # check_record is called by the Checker only; every walk checks through a Checker.
    callers = {
        module
        for module, function in _functions()
        for call in ast.walk(function)
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "check_record"
    }
    assert callers == {"checker.py"}
    assert not (INGEST / "check_pool.py").exists()
