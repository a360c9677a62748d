"""Loads that overlap, as they do on a real scheduler (every daily DAG starts at midnight).

Issue 19, failure 1: the load transaction used to run `CREATE INDEX IF NOT EXISTS … ON
ops.ingest_runs`, whose ShareLock lasted to commit, so any two overlapping loads deadlocked on their
final `INSERT INTO ops.ingest_runs`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest

pytestmark = pytest.mark.integration

# Four different endpoints, and one of them twice.
DIFFERENT = [("rawg", "games"), ("rawg", "genres"), ("tcgdex", "sets"), ("pokemontcg", "sets")]
TWICE = ("rawg", "games")


@pytest.mark.parametrize("warehouse", ["fresh", "loaded_before"])
def test_overlapping_loads_of_any_endpoints_never_deadlock(harness, warehouse):
    endpoints = {key: harness.endpoint(*key) for key in DIFFERENT}
    extracted = {key: harness.extract(endpoint) for key, endpoint in endpoints.items()}
    if warehouse == "loaded_before":  # the usual case: the ops tables exist, loads ran before
        other = harness.endpoint("rawg", "stores")
        harness.run(other)
        _execute(harness.pg_url, "DELETE FROM ops.ingest_runs")
    jobs = [*DIFFERENT, TWICE]
    start = threading.Barrier(len(jobs))

    def load(index: int, key: tuple[str, str]):
        start.wait()  # all loads begin together, so their transactions overlap
        return harness.load(endpoints[key], extracted[key], run_id=f"run-{index}")

    # No retry: a deadlock (or any error) in one load fails the test.
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(load, range(len(jobs)), jobs))

    for key, endpoint in endpoints.items():
        expected = extracted[key].records - extracted[key].invalid
        rows = harness.query(f'SELECT count(*), count(DISTINCT _record_key) FROM raw."{endpoint.table_name}"')
        assert rows == [(expected, expected)], key
    statuses = harness.query(
        "SELECT source, endpoint, status, count(*) FROM ops.ingest_runs GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    # The same landing loaded twice at once: one load appends it, the other finds it loaded.
    assert statuses == sorted(
        [(s, e, "loaded", 1) for s, e in DIFFERENT] + [(*TWICE, "skipped_already_loaded", 1)]
    )
    assert sorted(r.status for r in results) == ["loaded"] * 4 + ["skipped_already_loaded"]


def _execute(url: str, statement: str) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()
