"""The ingest tasks' allocator settings (ingest/memory.py), each in a fresh interpreter: they are
process-wide and read once, so the test process itself must not be the one measured."""

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
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=120,
        check=True,
    )
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


# Free 2 MiB blocks after glibc's dynamic threshold was raised by a freed 4 MiB block, keeping the
# last one so the heap's top cannot be trimmed: what the load's COPY and S3 buffers did.
RETENTION = """
import json, sys
from game_market_pipeline.ingest.memory import map_large_blocks
def anon_mib():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
fixed = map_large_blocks() if sys.argv[-1] == "fixed" else None
big = bytearray(4 << 20); del big
before = anon_mib()
blocks = [bytearray(2 << 20) for _ in range(40)]
keep = blocks.pop()
del blocks
print(json.dumps({"fixed": fixed, "retained_mib": anon_mib() - before}))
"""


def test_with_the_threshold_fixed_freed_large_blocks_leave_the_resident_set():
    fixed = _run(RETENTION, "fixed")
    assert fixed["fixed"] is True
    assert fixed["retained_mib"] < 10, fixed


def test_without_it_glibc_keeps_them_which_is_why_the_load_sets_it():
    # Documents the behaviour the fix exists for (80 MiB allocated, 78 freed, still resident).
    assert _run(RETENTION, "default")["retained_mib"] > 60
