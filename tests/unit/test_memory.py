"""The ingest tasks' Arrow pool choice (ingest/memory.py), in a fresh interpreter: it is process-wide
and read once, so the test process itself must not be the one measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc are Linux's")


def _run(code: str, *args: str, **env: str) -> dict:
    """Run `code` in a fresh interpreter (no inherited Arrow pool choice); its last line is JSON."""
    clean = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


ARROW_POOL = """
import json
import game_market_pipeline.ingest.staging  # what a task imports first
import pyarrow as pa
print(json.dumps({"backend": pa.default_memory_pool().backend_name}))
"""


def test_importing_the_ingest_package_selects_arrows_system_pool():
    assert _run(ARROW_POOL)["backend"] == "system"


def test_an_operators_own_arrow_pool_setting_wins():
    assert _run(ARROW_POOL, ARROW_DEFAULT_MEMORY_POOL="mimalloc")["backend"] == "mimalloc"
