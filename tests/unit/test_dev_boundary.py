"""The product never reaches the development tools.

The local stack, the replay server with its recordings and the dbt runner live in dev/ (package
`gmp_dev`), the benchmarks in bench/. Neither may be imported (or started with `-m`) by the installed
package under include/, copied by the Dockerfile, sent to the Docker build context, or named by the
product's console scripts.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from tests.deploy.dockerfile import DockerIgnore, parse_dockerfile

REPO_ROOT = Path(__file__).resolve().parents[2]
PRODUCT_ROOT = REPO_ROOT / "include"
DEV_TOOL_PACKAGES = ("gmp_dev", "bench", "tests")
DEV_TOOL_FOLDERS = ("dev", "bench", "tests")


def _names_a_dev_tool(dotted: str) -> bool:
    return dotted.split(".")[0] in DEV_TOOL_PACKAGES


def dev_tool_references(source: str) -> list[str]:
    """`line: name` for each import of a dev-tool package and each string naming one as a module
    (`importlib.import_module("gmp_dev...")`, `[python, "-m", "gmp_dev.replay.server"]`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {alias.name}" for alias in node.names if _names_a_dev_tool(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _names_a_dev_tool(node.module):
                found.append(f"{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("gmp_dev.") or node.value == "gmp_dev":
                found.append(f"{node.lineno}: string {node.value!r}")
    return found


def dockerfile_dev_tool_copies(dockerfile_text: str) -> list[str]:
    """COPY/ADD instructions (from the build context) whose source is a dev-tool folder or the whole context."""
    found = []
    for instruction in parse_dockerfile(dockerfile_text):
        if instruction.keyword not in ("COPY", "ADD"):
            continue
        flags, words = instruction.flags_and_words()
        if "from" in flags:
            continue
        for source in words[:-1]:
            top = source.strip("/").removeprefix("./").split("/")[0]
            if top in ("", ".", "*") or top in DEV_TOOL_FOLDERS:
                found.append(f"line {instruction.line}: {instruction.keyword} {source}")
    return found


def test_no_product_module_imports_a_dev_tool() -> None:
    modules = sorted(PRODUCT_ROOT.rglob("*.py"))
    assert len(modules) > 50, "the product's modules were not found"
    violations = {
        str(path.relative_to(REPO_ROOT)): refs
        for path in modules
        if (refs := dev_tool_references(path.read_text()))
    }
    assert violations == {}


def test_the_dev_tools_are_not_in_the_product_tree() -> None:
    assert (REPO_ROOT / "dev" / "gmp_dev" / "local" / "stack.py").is_file()
    for gone in ("local", "replay", "transform/run_dbt.py"):
        assert not (PRODUCT_ROOT / "game_market_pipeline" / gone).exists(), gone


def test_the_dockerfile_copies_no_dev_tool() -> None:
    assert dockerfile_dev_tool_copies((REPO_ROOT / "Dockerfile").read_text()) == []


@pytest.mark.parametrize(
    "path",
    [
        "dev/pyproject.toml",
        "dev/gmp_dev/local/stack.py",
        "dev/gmp_dev/replay/server.py",
        "dev/gmp_dev/replay/recordings/rawg/games_page_1.json",
        "bench/common.py",
        "bench/RESULTS.md",
    ],
)
def test_the_build_context_leaves_the_dev_tools_out(path: str) -> None:
    assert DockerIgnore.from_file(REPO_ROOT / ".dockerignore").excluded(path)


def test_the_product_console_scripts_are_product_code() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    scripts = project["project"]["scripts"]
    assert scripts, "no console scripts found"
    assert {name: target for name, target in scripts.items() if _names_a_dev_tool(target)} == {}
    assert project["tool"]["setuptools"]["packages"]["find"]["where"] == ["include"]


# --- the checks can fail -------------------------------------------------------------------------


def test_the_import_check_catches_each_way_in() -> None:
    source = (
        "import gmp_dev.local.stack\n"
        "from bench.common import Timer\n"
        "from tests.conftest import x\n"
        "from game_market_pipeline.warehouse import connection\n"
        "from . import sibling\n"
        "CMD = ['python', '-m', 'gmp_dev.replay.server']\n"
    )
    assert dev_tool_references(source) == [
        "1: import gmp_dev.local.stack",
        "2: from bench.common import ...",
        "3: from tests.conftest import ...",
        "6: string 'gmp_dev.replay.server'",
    ]


def test_the_dockerfile_check_catches_a_dev_tool_copy() -> None:
    dockerfile = (
        "FROM apache/airflow:3.3.2-python3.11\n"
        "COPY include/ /opt/airflow/include/\n"
        "COPY --chown=airflow:0 dev/ /opt/airflow/dev/\n"
        "COPY bench /opt/bench\n"
        "COPY . /opt/airflow/\n"
        "COPY --from=builder /tmp/dev /opt/dev\n"
    )
    assert [found.split(": ", 1)[1] for found in dockerfile_dev_tool_copies(dockerfile)] == [
        "COPY dev/",
        "COPY bench",
        "COPY .",
    ]


def test_the_build_context_check_catches_a_let_in_dev_folder() -> None:
    leaky = DockerIgnore("**\n!include\n!dev\n")
    assert leaky.included("dev/gmp_dev/local/stack.py")
