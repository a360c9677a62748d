"""Read Terraform files with python-hcl2 into plain Python values.

python-hcl2 (8.x) keeps HCL's quotes around string values and labels and marks blocks with
`__is_block__`; `load()` strips both, so `variable["region"]["default"] == "eu-west-1"`. Expressions
stay strings such as "${var.x}". Comments survive under `__comments__` (checkov skips live there).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text


def normalize(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(key): normalize(value) for key, value in node.items() if key != "__is_block__"}
    if isinstance(node, list):
        return [normalize(item) for item in node]
    if isinstance(node, str):
        return _unquote(node)
    return node


@cache
def load(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return normalize(hcl2.load(handle))


def blocks(path: Path, kind: str) -> dict[str, Any]:
    """Single-label blocks (variable, output, module) of one file, merged by label."""
    merged: dict[str, Any] = {}
    for entry in load(path).get(kind, []):
        merged.update(entry)
    return merged


def resources(path: Path, kind: str = "resource") -> dict[tuple[str, str], dict[str, Any]]:
    """Two-label blocks (resource, data) of one file, keyed by (type, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in load(path).get(kind, []):
        for rtype, named in entry.items():
            for name, body in named.items():
                found[(rtype, name)] = body
    return found


def dir_resources(directory: Path, kind: str = "resource") -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        found.update(resources(path, kind))
    return found


def dir_blocks(directory: Path, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(directory.glob("*.tf")):
        found.update(blocks(path, kind))
    return found


def terraform_blocks(directory: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(directory.glob("*.tf")):
        found.extend(load(path).get("terraform", []))
    return found


def first(value: Any) -> Any:
    """Nested blocks come as lists of one dict; attributes as plain values."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def root_dirs() -> list[Path]:
    """Every directory with .tf files: modules, env roots, bootstrap."""
    return sorted({path.parent for path in TERRAFORM_DIR.rglob("*.tf") if ".terraform" not in path.parts})


def module_dirs() -> list[Path]:
    return sorted(path for path in (TERRAFORM_DIR / "modules").iterdir() if path.is_dir())


def env_dirs() -> list[Path]:
    return sorted(path for path in (TERRAFORM_DIR / "envs").iterdir() if path.is_dir())


def kubernetes_version() -> str:
    """The cluster's Kubernetes minor version: module platform's `kubernetes_version`, the only
    place it is set (render tests validate manifests against it)."""
    return dir_blocks(TERRAFORM_DIR / "modules" / "platform", "variable")["kubernetes_version"]["default"]
