"""Chaos, bounded: extracts and loads killed (SIGKILL) at random points, loads run concurrently — and
every count stays exact. A few trials of seconds each, so it runs with the suite and this stays true.

The random points come from a seed printed with every failure; `GMP_CHAOS_SEED=<seed>` replays a
failing trial exactly (the kill points are counted in API requests and load progress, not time).
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.warehouse.call_counter import DEFAULT_BLOCK
from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.kills import kill_when, start_extract_child, start_load_child

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("GMP_CHAOS_SEED", time.time_ns() % 1_000_000))
TRIALS = 3
GAMES = 1600
PAGES = GAMES // 40
PART_RECORDS = 200


def _rng(trial: int, test: str) -> random.Random:
    return random.Random(f"{SEED}:{test}:{trial}")


def _settings(replay: ReplayServer) -> ApiSettings:
    return ApiSettings(replay.base_url("rawg"), FAKE_RAWG_KEY, 1000.0, 1000, 10.0)


@pytest.mark.parametrize("trial", range(TRIALS))
def test_extract_killed_at_random_points_resumes_exactly(harness, s3_endpoint, trial):
    rng = _rng(trial, "extract")
    kills = rng.randint(1, 2)
    where = f"seed {SEED}, trial {trial}"
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=5) as replay:
        killed = 0
        for _ in range(kills):
            # A random request of the walk, counted from where this attempt starts.
            at = replay.stats()["requests"] + rng.randint(1, PAGES - 1)
            child = start_extract_child(harness, s3_endpoint, replay, lease_ttl_seconds=0.5)
            killed += kill_when(child, lambda at=at: replay.stats()["requests"] >= at)
        endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
        result, loaded = harness.run(
            endpoint,
            run_id=f"chaos-{trial}",
            settings=_settings(replay),
            part_records=PART_RECORDS,
        )
        sent = replay.stats()["requests"]

    assert result.records == GAMES and loaded.copied == GAMES, where
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"') == [
        (GAMES, GAMES)
    ], where
    # Every request of every attempt is in the run record; a killed attempt may leave part of a block.
    (recorded,) = harness.query("SELECT api_calls FROM ops.ingest_runs WHERE endpoint = 'games'")[0]
    assert sent <= recorded < sent + killed * DEFAULT_BLOCK, where
    assert harness.query("SELECT count(*) FROM ops.ingest_leases") == [(0,)], where


def _load_active(harness, name: str) -> bool:
    return bool(
        harness.query(
            "SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND state <> 'idle' AND xact_start IS NOT NULL",
            (name,),
        )
    )


@pytest.mark.parametrize("trial", range(TRIALS))
def test_load_killed_at_a_random_point_then_rerun_loads_exactly(harness, s3_endpoint, trial):
    rng = _rng(trial, "load")
    where = f"seed {SEED}, trial {trial}"
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=0) as replay:
        endpoint = harness.endpoint("rawg", "games")
        extracted = harness.extract(endpoint, settings=_settings(replay), part_records=PART_RECORDS)
    name = f"chaos-load-{trial}"
    child = start_load_child(harness, s3_endpoint, extracted.manifest_uri, name)
    # A random moment of the load's transaction: right at its start, or up to ~0.3 s into it.
    delay = rng.choice([0.0, rng.uniform(0.0, 0.3)])
    started: dict[str, float] = {}

    def ready() -> bool:
        if "at" not in started and _load_active(harness, name):
            started["at"] = time.monotonic()
        return "at" in started and time.monotonic() - started["at"] >= delay

    killed = kill_when(child, ready)
    _wait_until_gone(harness, name)
    # The killed session's transaction rolls back: nothing of it is visible, or all of it committed.
    partial = harness.query('SELECT count(*) FROM raw."rawg__games"') if _has_table(harness) else [(0,)]
    assert partial[0][0] in (0, GAMES), where
    rerun = harness.load(endpoint, extracted, run_id=f"rerun-{trial}")
    assert rerun.status == ("loaded" if partial[0][0] == 0 else "skipped_already_loaded"), (where, killed)
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"') == [
        (GAMES, GAMES)
    ], where
    assert harness.query("SELECT count(*) FROM ops.ingest_runs WHERE status = 'loaded'") == [(1,)], where


def _wait_until_gone(harness, name: str, timeout: float = 30.0) -> None:
    """Until the killed client's server session has ended (and with it, its transaction)."""
    deadline = time.monotonic() + timeout
    while harness.query("SELECT 1 FROM pg_stat_activity WHERE application_name = %s", (name,)):
        assert time.monotonic() < deadline, f"the session of {name} outlived its client by {timeout}s"
        time.sleep(0.02)


def _has_table(harness) -> bool:
    return harness.query("SELECT to_regclass('raw.rawg__games') IS NOT NULL") == [(True,)]


def test_loads_overlap_at_random_while_one_is_killed(harness, s3_endpoint):
    """Different endpoints and repeats of one, started with random jitter, beside a load killed
    mid-way: no deadlock, no error, exact counts."""
    rng = _rng(0, "overlap")
    where = f"seed {SEED}"
    keys = [
        ("rawg", "genres"),
        ("rawg", "platforms"),
        ("tcgdex", "sets"),
        ("pokemontcg", "sets"),
        ("rawg", "tags"),
    ]
    endpoints = {key: harness.endpoint(*key) for key in keys}
    extracted = {key: harness.extract(endpoint) for key, endpoint in endpoints.items()}
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=0) as replay:
        games = harness.endpoint("rawg", "games")
        games_landing = harness.extract(games, settings=_settings(replay), part_records=PART_RECORDS)
    jobs = keys + [rng.choice(keys) for _ in range(3)]
    rng.shuffle(jobs)
    jitter = [rng.uniform(0, 0.2) for _ in jobs]

    victim = start_load_child(harness, s3_endpoint, games_landing.manifest_uri, "chaos-victim")
    killer = threading.Thread(
        target=kill_when,
        args=(victim, lambda: _load_active(harness, "chaos-victim")),
    )
    killer.start()

    def load(index: int):
        time.sleep(jitter[index])
        key = jobs[index]
        return harness.load(endpoints[key], extracted[key], run_id=f"overlap-{index}")

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(load, range(len(jobs))))  # any error (a deadlock) fails the test
    killer.join()
    harness.load(games, games_landing, run_id="games-after-kill")

    for key, endpoint in endpoints.items():
        expected = extracted[key].records - extracted[key].invalid
        assert harness.query(
            f'SELECT count(*), count(DISTINCT _record_key) FROM raw."{endpoint.table_name}"'
        ) == [(expected, expected)], (where, key)
        statuses = harness.query(
            "SELECT status, count(*) FROM ops.ingest_runs WHERE source = %s AND endpoint = %s GROUP BY 1 ORDER BY 1",
            key,
        )
        repeats = jobs.count(key) - 1
        assert statuses == [("loaded", 1)] + ([("skipped_already_loaded", repeats)] if repeats else []), (
            where,
            key,
        )
    assert len(results) == len(jobs)
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"') == [
        (GAMES, GAMES)
    ]
