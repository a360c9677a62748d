"""Issue 19, failure 6: API calls counted where they happen, and an upload failure stops fetching.

Before: the manifest counted 501 calls where 624 were made (a killed attempt's calls after its last
landed part were lost), `ops.ingest_runs.api_calls` kept only the last attempt's figure, and after S3
died the extract went on fetching a whole part (382 calls) before the upload's failure surfaced.
"""

from __future__ import annotations

import time
from datetime import date

import boto3
import psycopg2
import pytest

from game_market_pipeline.exceptions import ApiError
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.warehouse.call_counter import DEFAULT_BLOCK, CallCounter
from game_market_pipeline.warehouse.migrate import apply_migrations
from gmp_dev.local import stack
from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY
from tests.integration.kills import PART_RECORDS, checkpoints, kill_after_checkpoints, start_extract_child

pytestmark = pytest.mark.integration

GAMES = 2000


def counted(harness, source: str = "rawg") -> int:
    return harness.query("SELECT coalesce(sum(calls), 0) FROM ops.api_calls WHERE source = %s", (source,))[0][
        0
    ]


def test_every_attempt_is_counted_killed_and_retried_ones_too(harness, s3_endpoint):
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=15) as replay:
        child = start_extract_child(harness, s3_endpoint, replay, lease_ttl_seconds=1.0)
        kill_after_checkpoints(harness, child, parts=2)
        # The resumed run meets two server errors: their retries are calls too.
        replay.add_fault(r"/games", "500", times=2)
        endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
        settings = ApiSettings(replay.base_url("rawg"), FAKE_RAWG_KEY, 1000.0, 1000, 10.0)
        result, loaded = harness.run(endpoint, settings=settings, part_records=PART_RECORDS)
        sent = replay.stats()["requests"]

    assert loaded.copied == GAMES
    assert result.api_calls < sent  # the last attempt alone: what used to be recorded
    # Nothing sent is missing; the killed attempt may leave part of one reserved block counted.
    total = counted(harness)
    assert sent <= total < sent + DEFAULT_BLOCK
    per_date = harness.query(
        "SELECT calls FROM ops.ingest_calls WHERE source = 'rawg' AND endpoint = 'games' AND ingest_date = %s",
        (DAY,),
    )
    assert per_date == [(total,)]
    # The run record adds up every attempt of the date.
    assert harness.query("SELECT api_calls FROM ops.ingest_runs WHERE endpoint = 'games'") == [(total,)]


def test_a_finished_run_counts_exactly_what_it_sent(harness):
    endpoint = harness.endpoint("rawg", "genres")
    result, _ = harness.run(endpoint)
    sent = harness.replay.stats()["requests"]
    assert result.api_calls == sent
    assert counted(harness) == sent  # the unused reservation was given back
    counter = CallCounter(harness.connect)
    try:
        assert counter.calls_this_month("rawg") >= sent
        days = harness.query("SELECT count(*) FROM ops.api_calls WHERE source = 'rawg'")[0][0]
        if days == 1:  # (unless UTC midnight passed during the test)
            assert counter.calls_today("rawg") == sent
    finally:
        counter.close()


def test_counter_batches_its_writes_and_never_under_counts(fresh_pg_url):
    conn = psycopg2.connect(fresh_pg_url)
    apply_migrations(conn)
    conn.close()
    today = {"day": date(2026, 11, 30)}
    counter = CallCounter(lambda: psycopg2.connect(fresh_pg_url), block=10, today=lambda: today["day"])
    for _ in range(25):
        counter.add("rawg")
    # Three reservations of 10 for 25 calls: the table is ahead, never behind.
    assert counter.writes == 3
    assert counter.calls_today("rawg") == 30
    today["day"] = date(2026, 12, 1)
    counter.add("rawg", 7)  # a new UTC day: the old day's unused reservation is given back
    counter.close()
    rows = dict(
        _fetch(fresh_pg_url, "SELECT day::text, calls FROM ops.api_calls WHERE source = 'rawg' ORDER BY day")
    )
    assert rows == {"2026-11-30": 25, "2026-12-01": 7}


def test_counter_keeps_counting_while_the_warehouse_is_down(fresh_pg_url):
    conn = psycopg2.connect(fresh_pg_url)
    apply_migrations(conn)
    conn.close()
    up = {"value": False}

    def connect():
        if not up["value"]:
            raise psycopg2.OperationalError("connection refused (test: the warehouse is down)")
        return psycopg2.connect(fresh_pg_url)

    counter = CallCounter(connect, block=5, retry_seconds=0.0)
    for _ in range(12):
        counter.add("tcgdex")  # no error: fetching goes on
    up["value"] = True
    counter.add("tcgdex")  # the first write that succeeds reports the 12 made meanwhile
    counter.close()
    assert _fetch(fresh_pg_url, "SELECT calls FROM ops.api_calls WHERE source = 'tcgdex'") == [(13,)]


def test_an_upload_failure_stops_fetching_at_once(harness, tmp_path):
    """S3 dies mid-extract: the extract stops within a page or two, not a part later."""
    moto = stack.start_moto(tmp_path / "private-s3")
    try:
        from botocore.config import Config

        s3 = boto3.client(
            "s3",
            endpoint_url=moto.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            # A dead endpoint fails at once (connection refused), without the SDK's retries.
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2),
        )
        s3.create_bucket(Bucket=harness.bucket)
        harness.s3 = s3
        part_records, pages_per_part = 2000, 50
        with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=8000, latency_ms=10) as replay:
            endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
            settings = ApiSettings(replay.base_url("rawg"), FAKE_RAWG_KEY, 1000.0, 1000, 10.0)

            def kill_s3_after_first_part() -> None:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if checkpoints(s3, harness.bucket) >= 1:
                            break
                    except Exception:  # noqa: BLE001 - polling only
                        pass
                    time.sleep(0.01)
                stack.stop_service(tmp_path / "private-s3", "moto")

            import threading

            killer = threading.Thread(target=kill_s3_after_first_part)
            killer.start()
            with pytest.raises(Exception) as failure:  # noqa: B017 - which one is asserted below
                harness.extract(endpoint, settings=settings, part_records=part_records)
            killer.join()
            sent = replay.stats()["requests"]
    finally:
        stack.stop_service(tmp_path / "private-s3", "moto")
    # Part 1 landed, part 2 was fetched while S3 died and its upload failed at once: fetching
    # stopped there, a page or two into part 3 at most (it used to fetch all of part 3 first).
    assert sent <= 2 * pages_per_part + 3, sent
    assert isinstance(failure.value, ApiError) and "uploading a part to S3 failed" in str(failure.value)


def _fetch(url: str, statement: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall()
    finally:
        conn.close()
