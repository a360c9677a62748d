"""The config package is a leaf: it imports nothing of the project but itself.

Every other package reads the config; if the config imported one of them (quality, records, …), a
change there could break loading the config, and import cycles would follow.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = "game_market_pipeline"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "include" / PACKAGE / "config"


def project_imports_outside_config(source: str) -> list[str]:
    """`line: module` for each import of a project module outside game_market_pipeline.config."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level >= 2:  # `from .. import x` leaves the config package
                found.append(f"{node.lineno}: {'.' * node.level}{node.module or ''}")
                continue
            modules = [node.module or ""] if node.level == 0 else []
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == PACKAGE and parts[1:2] != ["config"]:
                found.append(f"{node.lineno}: {module}")
    return found


def test_no_config_module_imports_the_rest_of_the_project() -> None:
    modules = sorted(CONFIG_DIR.glob("*.py"))
    assert {"loader.py", "models.py", "quality.py", "errors.py"} <= {p.name for p in modules}
    violations = {
        path.name: found for path in modules if (found := project_imports_outside_config(path.read_text()))
    }
    assert violations == {}


def test_loading_the_config_imports_only_the_config_package() -> None:
    # The lazy imports inside functions count too: load the shipped config in a fresh interpreter.
    script = (
        "import sys\n"
        "from game_market_pipeline.config.loader import load_config\n"
        "loaded = load_config()\n"
        "assert loaded.config is not None, loaded.problems\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith('{PACKAGE}.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = result.stdout.split()
    assert f"{PACKAGE}.config.loader" in loaded
    assert [m for m in loaded if not m.startswith(f"{PACKAGE}.config")] == []


def test_the_check_catches_imports_out_of_the_config() -> None:
    source = (
        "from game_market_pipeline.quality.config import QualityConfig\n"
        "import game_market_pipeline.records.registry\n"
        "from game_market_pipeline.config.errors import ConfigError\n"
        "from . import models\n"
        "from ..exceptions import ConfigError\n"
        "def f():\n"
        "    from game_market_pipeline.records.registry import known_record_models\n"
    )
    assert project_imports_outside_config(source) == [
        "1: game_market_pipeline.quality.config",
        "2: game_market_pipeline.records.registry",
        "5: ..exceptions",
        "7: game_market_pipeline.records.registry",
    ]
