"""Issue 19, failure 8: one fetcher per endpoint and date (`ops.ingest_leases`).

Before: two direct runs of one endpoint and date both fetched everything (1,000 calls instead of
500). Now the second waits for the first and then finds the landing complete; a lease whose owner
died expires and the next run resumes.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

from game_market_pipeline.exceptions import ApiError
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.warehouse.leases import EndpointLease, LeaseHeldError
from game_market_pipeline.warehouse.migrate import apply_migrations
from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY
from tests.integration.kills import (
    PART_RECORDS,
    checkpoints,
    kill_after_checkpoints,
    start_extract_child,
)

pytestmark = pytest.mark.integration

GAMES = 2000
PAGES = GAMES // 40


def _settings(replay: ReplayServer) -> ApiSettings:
    return ApiSettings(replay.base_url("rawg"), FAKE_RAWG_KEY, 1000.0, 1000, 10.0)


def test_a_second_concurrent_run_waits_and_fetches_nothing(harness, caplog):
    caplog.set_level(logging.INFO, logger="game_market_pipeline.warehouse.leases")
    endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=10) as replay:
        start = threading.Barrier(2)
        results = {}

        def run(run_id: str) -> None:
            start.wait()
            results[run_id] = harness.extract(
                endpoint,
                run_id=run_id,
                settings=_settings(replay),
                part_records=PART_RECORDS,
            )

        threads = [threading.Thread(target=run, args=(run_id,)) for run_id in ("run-a", "run-b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        sent = replay.stats()["requests"]

    assert sent == PAGES  # one walk, not two
    fetched, waited = sorted(results.values(), key=lambda r: r.already_complete)
    assert (fetched.already_complete, fetched.api_calls, fetched.records) == (False, PAGES, GAMES)
    assert (waited.already_complete, waited.api_calls) == (True, 0)
    assert fetched.manifest_uri == waited.manifest_uri
    assert "is being fetched by 'run-" in caplog.text and "waiting for it to finish" in caplog.text
    assert harness.query("SELECT count(*) FROM ops.ingest_leases") == [(0,)]  # both released
    loaded = harness.load(endpoint, fetched)
    assert loaded.copied == GAMES
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"') == [
        (GAMES, GAMES)
    ]


def test_a_dead_owners_lease_expires_and_the_next_run_resumes(harness, s3_endpoint):
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=15) as replay:
        child = start_extract_child(harness, s3_endpoint, replay, lease_ttl_seconds=1.0)
        kill_after_checkpoints(harness, child, parts=2)
        holder = harness.query("SELECT owner FROM ops.ingest_leases")
        assert len(holder) == 1 and holder[0][0].startswith("run-killed ")
        landed = checkpoints(harness.s3, harness.bucket)
        endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
        started = time.monotonic()
        result = harness.extract(
            endpoint,
            run_id="run-next",
            settings=_settings(replay),
            part_records=PART_RECORDS,
        )
        took = time.monotonic() - started

    assert result.records == GAMES and not result.already_complete
    assert result.api_calls <= PAGES - landed * (PART_RECORDS // 40)  # resumed, not refetched
    assert took < 15  # waited about the 1 s TTL, not the default 90 s
    assert harness.query("SELECT count(*) FROM ops.ingest_leases") == [(0,)]


def test_waiting_gives_up_with_an_error_naming_the_holder(harness):
    conn = harness.connect()
    apply_migrations(conn)
    conn.close()
    endpoint = harness.endpoint("rawg", "genres")
    with EndpointLease(
        harness.connect, "rawg", "genres", DAY, "scheduled__2026-11-20 pid 1@worker-7", ttl_seconds=30
    ):
        with pytest.raises(
            LeaseHeldError, match=r"rawg.genres 2026-11-20 is being fetched by 'scheduled__2026-11-20"
        ):
            harness.extract(endpoint, run_id="manual", lease_wait_seconds=0.5)
    assert harness.replay.stats()["requests"] == 0


def test_a_run_whose_lease_is_taken_over_stops_fetching(harness):
    endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=20) as replay:

        def steal_after_first_part() -> None:
            deadline = time.monotonic() + 30
            while checkpoints(harness.s3, harness.bucket) < 1 and time.monotonic() < deadline:
                time.sleep(0.02)
            conn = harness.connect()
            with conn, conn.cursor() as cur:
                cur.execute("UPDATE ops.ingest_leases SET owner = 'another run'")
            conn.close()

        thief = threading.Thread(target=steal_after_first_part)
        thief.start()
        with pytest.raises(ApiError, match="the lease was taken over by another run"):
            harness.extract(
                endpoint,
                settings=_settings(replay),
                part_records=PART_RECORDS,
                lease_ttl_seconds=0.6,
            )
        thief.join()
        sent = replay.stats()["requests"]
    assert sent < PAGES  # it stopped instead of finishing the walk beside the new owner
