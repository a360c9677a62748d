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
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    _spin(0.6)
    # What the kernel actually gave this process: on a busy machine a spinning thread gets less
    # than a core, so the meter is compared with that, not with 1.0.
    got = (time.process_time() - cpu_before) / (time.perf_counter() - wall_before)
    use = meter.stop()
    assert use["own_cores"] > 0.7 * got, (use, got)
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
    elapsed = time.perf_counter() - started
    assert elapsed > 0.3, "the query was too short to measure"
    # The backend ran the whole query; on a busy machine it shared the cores with others.
    assert use["postgres_cores"] * use["seconds"] > 0.2, use
    assert use["own_cores"] < 0.3, use
