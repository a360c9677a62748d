"""Child processes the crash, lease and chaos tests kill with SIGKILL, and when to kill them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY

PART_RECORDS = 200  # 5 pages of 40 per part


def checkpoints(s3, bucket: str) -> int:
    response = s3.list_objects_v2(Bucket=bucket, Prefix="bronze/source=rawg/endpoint=games/")
    return sum(1 for item in response.get("Contents", []) if item["Key"].endswith(".checkpoint.json"))


def start_extract_child(harness, s3_endpoint: str, replay: ReplayServer, **extra) -> subprocess.Popen:
    args = {
        "source": "rawg",
        "endpoint": "games",
        "s3_endpoint": s3_endpoint,
        "bucket": harness.bucket,
        "base_url": replay.base_url("rawg"),
        "secret": FAKE_RAWG_KEY,
        "day": DAY.isoformat(),
        "part_records": PART_RECORDS,
        "pg_url": harness.pg_url,
        **extra,
    }
    return subprocess.Popen([sys.executable, "-m", "tests.integration.extract_child", json.dumps(args)])


def kill_after_checkpoints(harness, child: subprocess.Popen, parts: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (
        checkpoints(harness.s3, harness.bucket) < parts
        and time.monotonic() < deadline
        and child.poll() is None
    ):
        time.sleep(0.02)
    assert child.poll() is None, "the child finished before it could be killed: make the walk slower"
    child.send_signal(signal.SIGKILL)
    child.wait()


def kill_when(child: subprocess.Popen, ready, timeout: float = 60.0) -> bool:
    """SIGKILL the child once `ready()`; False if it finished first (a kill point past its end)."""
    deadline = time.monotonic() + timeout
    while child.poll() is None and not ready() and time.monotonic() < deadline:
        time.sleep(0.005)
    if child.poll() is not None:
        return False
    child.send_signal(signal.SIGKILL)
    child.wait()
    return True


def start_load_child(harness, s3_endpoint: str, manifest_uri: str, name: str) -> subprocess.Popen:
    args = {
        "source": "rawg",
        "endpoint": "games",
        "s3_endpoint": s3_endpoint,
        "bucket": harness.bucket,
        "pg_url": harness.pg_url,
        "manifest_uri": manifest_uri,
        "run_id": name,
        "application_name": name,
    }
    return subprocess.Popen([sys.executable, "-m", "tests.integration.load_child", json.dumps(args)])
