"""CpuMeter attributes CPU to the process that burns it and to PostgreSQL (a real server's backend)."""

from __future__ import annotations

import time

import psycopg2
import pytest

from bench.common import CpuMeter

pytestmark = pytest.mark.integration


def _spin(seconds: float) -> None:
    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        pass


def test_own_cpu_is_counted_and_postgres_is_not() -> None:
    meter = CpuMeter(poll_seconds=0.05)
    _spin(0.6)
    use = meter.stop()
    assert use["own_cores"] > 0.6, use  # one core spinning, whatever else the machine does
    assert use["machine_cores_busy"] >= use["own_cores"] - 0.15, use
    assert use["postgres_cores"] < 0.3, use


def test_postgres_backend_cpu_is_counted(pg_server_url: str) -> None:
    conn = psycopg2.connect(pg_server_url)
    try:
        meter = CpuMeter(poll_seconds=0.05)
        started = time.perf_counter()
        with conn.cursor() as cur:
            # Server-side work only: the client waits for one row.
            cur.execute("SELECT count(*) FROM generate_series(1, 20000000)")
            assert cur.fetchone()[0] == 20_000_000
        use = meter.stop()
    finally:
        conn.close()
    assert time.perf_counter() - started > 0.3, "the query was too short to measure"
    assert use["postgres_cores"] > 0.5, use
    assert use["own_cores"] < 0.3, use
