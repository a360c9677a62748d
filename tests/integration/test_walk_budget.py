"""List walks under the source's shared call budget (ingest/walk_budget.py), over the replay server
(HTTP), moto S3 and a real Postgres: a walk stops at the budget with `budget_exhausted`, lands what it
fetched, and the next budget window resumes it — no page fetched twice, no record lost or duplicated —
and two endpoints of one source walking at once never spend more than the budget together."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from game_market_pipeline.warehouse.call_budget import SharedCallBudget
from game_market_pipeline.warehouse.call_counter import utc_today
from game_market_pipeline.warehouse.migrate import ensure_migrated
from tests.fixtures_replay import start_replay_server
from tests.integration.conftest import DAY, Harness

pytestmark = pytest.mark.integration

GAMES = 400  # 10 pages of 40


@pytest.fixture
def games_harness(harness: Harness) -> Iterator[Harness]:
    """The harness over a replay server listing GAMES synthetic games (10 pages)."""
    replay = start_replay_server(synthetic_games=GAMES)
    try:
        yield Harness(harness.config, replay, harness.s3, harness.bucket, harness.pg_url)
    finally:
        replay.stop()


def execute(harness: Harness, statement: str, params: tuple = ()) -> None:
    conn = harness.connect()
    try:
        ensure_migrated(conn, "ops", "raw")
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
    finally:
        conn.close()


def next_budget_window(harness: Harness) -> None:
    """The UTC day ends: every call and grant counted so far moves to yesterday."""
    execute(harness, "UPDATE ops.api_calls SET day = day - 1")
    execute(harness, "UPDATE ops.call_budget_grants SET day = day - 1")


def run_under_budget(harness: Harness, endpoint: Any, day: Any, run_id: str, per_day: int) -> tuple[Any, Any]:
    """One extract + load of `endpoint` with the rawg budget a task builds from the config."""
    gate = SharedCallBudget(harness.connect, "ops", endpoint.source, per_day, None)
    try:
        result = harness.extract(endpoint, day, run_id, gate=gate, part_records=100)
    finally:
        gate.close()
    return result, harness.load(endpoint, result, run_id)


def staged_games(harness: Harness) -> tuple[int, int]:
    ((rows, keys),) = harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"')
    return rows, keys


def test_a_walk_stops_at_the_budget_and_the_next_windows_resume_it_without_loss_or_duplicate(games_harness):
    harness = games_harness
    games = harness.endpoint("rawg", "games")
    per_day = 4

    # Day 1: the budget allows 4 page calls of the 10-page walk.
    result, loaded = run_under_budget(harness, games, DAY, "run-1", per_day)
    manifest = harness.manifest(result)
    assert harness.replay.stats()["requests"] == per_day == result.api_calls
    assert loaded.status == "budget_exhausted" and manifest["status"] == "budget_exhausted"
    assert manifest["resume"]["next_request"]["index"] == per_day + 1
    assert manifest["resume"]["records_so_far"] == per_day * 40 == manifest["records"]
    assert manifest["resume"]["window_end"] == DAY.isoformat() and manifest["count_check"] is None
    assert "rawg_key" not in str(manifest["resume"]) and "key=" not in str(manifest["resume"])
    assert staged_games(harness) == (per_day * 40, per_day * 40)
    ((status, message),) = harness.query("SELECT status, message FROM ops.ingest_runs")
    assert status == "budget_exhausted" and f"resumes at page {per_day + 1}" in message
    # A retry of the same date is done: its landing is complete (zero calls).
    again = harness.extract(
        games, DAY, "run-1b", gate=SharedCallBudget(harness.connect, "ops", "rawg", 0, None)
    )
    assert again.already_complete and again.api_calls == 0

    # Day 2, a new budget window: the same walk continues at page 5 and stops again at page 9.
    next_budget_window(harness)
    harness.replay.reset()
    result, loaded = run_under_budget(harness, games, DAY + timedelta(days=1), "run-2", per_day)
    manifest = harness.manifest(result)
    assert loaded.status == "budget_exhausted" and manifest["resumed_from"] == DAY.isoformat()
    assert harness.replay.stats()["requests"] == per_day
    assert manifest["resume"]["next_request"]["index"] == 2 * per_day + 1
    assert manifest["resume"]["records_so_far"] == 2 * per_day * 40
    assert manifest["filters"] == {} and manifest["resume"]["window_end"] == DAY.isoformat()

    # Day 3: the last two pages; the walk is complete and checked against the API's count.
    next_budget_window(harness)
    harness.replay.reset()
    result, loaded = run_under_budget(harness, games, DAY + timedelta(days=2), "run-3", per_day)
    manifest = harness.manifest(result)
    assert loaded.status == "loaded" and "status" not in manifest and manifest["count_check"] == "ok"
    assert harness.replay.stats()["requests"] == 2 == result.api_calls
    assert (
        manifest["window_end"] == DAY.isoformat()
        and manifest["resumed_from"] == (DAY + timedelta(days=1)).isoformat()
    )
    # Every game exactly once, over three runs of 4 + 4 + 2 page calls: nothing lost, nothing twice.
    assert staged_games(harness) == (GAMES, GAMES)
    assert harness.query("SELECT sum(calls) FROM ops.api_calls WHERE source = 'rawg'") == [(10,)]
    assert harness.query("SELECT sum(outstanding) FROM ops.call_budget_grants") == [(0,)]
    assert [s for (s,) in harness.query("SELECT status FROM ops.ingest_runs ORDER BY id")] == [
        "budget_exhausted",
        "budget_exhausted",
        "loaded",
    ]

    # Day 4: an ordinary incremental run whose window starts where the stopped walk's ended.
    result, _ = run_under_budget(harness, games, DAY + timedelta(days=3), "run-4", 1000)
    assert harness.manifest(result)["filters"] == {
        "updated": f"{DAY.isoformat()},{(DAY + timedelta(days=3)).isoformat()}"
    }


def test_a_budget_spent_before_the_first_page_lands_nothing_and_resumes_from_the_start(games_harness):
    harness = games_harness
    games = harness.endpoint("rawg", "games")
    # Another task of the source spent today's budget already.
    execute(harness, "INSERT INTO ops.api_calls (source, day, calls) VALUES ('rawg', %s, 4)", (utc_today(),))
    result, loaded = run_under_budget(harness, games, DAY, "run-1", 4)
    assert harness.replay.stats()["requests"] == 0 and loaded.status == "budget_exhausted"
    assert harness.manifest(result)["resume"]["next_request"]["index"] == 1 and result.records == 0
    next_budget_window(harness)
    result, loaded = run_under_budget(harness, games, DAY + timedelta(days=1), "run-2", 1000)
    assert loaded.status == "loaded" and staged_games(harness) == (GAMES, GAMES)
    assert harness.replay.stats()["requests"] == 10


def test_two_endpoints_of_one_source_walking_at_once_never_exceed_the_budget_together(games_harness, capsys):
    """rawg.games (10 pages, 4 in parallel) and rawg.tags (10 pages of 1) walk at once, each task with
    its own gate on the warehouse: the calls the API received never pass the shared budget."""
    harness = games_harness
    tags = harness.endpoint("rawg", "tags")
    endpoints = [
        harness.endpoint("rawg", "games"),
        tags.model_copy(update={"params": {**tags.params, "page_size": 1}}),
    ]
    errors: list[BaseException] = []
    results: dict[str, Any] = {}
    measured = []
    for per_day in (5, 9, 13):
        harness.replay.reset()
        start = threading.Barrier(len(endpoints))

        def walk(endpoint: Any, per_day: int = per_day, start: threading.Barrier = start) -> None:
            try:
                start.wait()
                results[endpoint.name] = run_under_budget(harness, endpoint, DAY, f"run-{per_day}", per_day)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=walk, args=(e,)) for e in endpoints]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        sent = harness.replay.stats()["requests"]
        counted = harness.query("SELECT coalesce(sum(calls), 0) FROM ops.api_calls WHERE source = 'rawg'")[0][
            0
        ]
        measured.append((per_day, sent))
        assert sent == counted == per_day, (per_day, sent, counted)
        # 20 pages wanted, fewer allowed: at least one walk stopped, each landed what it fetched.
        assert "budget_exhausted" in {loaded.status for _, loaded in results.values()}
        assert (
            sum(loaded.records for _, loaded in results.values())
            == 40 * results["games"][0].api_calls + results["tags"][0].api_calls
        )
        assert harness.query("SELECT coalesce(sum(outstanding), 0) FROM ops.call_budget_grants") == [(0,)]
        # Start afresh for the next budget: an empty warehouse and bucket of this date's landings.
        execute(harness, "TRUNCATE ops.api_calls, ops.call_budget_grants, ops.ingest_runs, ops.ingest_calls")
        for key, _, _ in harness.s3_objects():
            harness.s3.delete_object(Bucket=harness.bucket, Key=key)
    with capsys.disabled():
        print(f"\ncalls sent by two concurrent walks vs the shared budget (budget, sent): {measured}")


def test_a_fan_out_page_takes_all_its_detail_grants_or_none_and_resumes_at_that_page(harness):
    """tcgdex.cards (pages of 10 cards, one detail call per card): with room for the second page's
    list call but not its 10 details, the walk stops before them, lands the first page's cards, and
    the next window asks for the second page again — every card's detail is requested exactly once."""
    import re

    cards = harness.endpoint("tcgdex", "cards")
    cards = cards.model_copy(update={"paginator": cards.paginator.model_copy(update={"page_size": 10})})
    total = len(harness.replay.app.corpus.tcgdex.cards)
    per_day = (1 + 10) + 1 + 5  # page 1 and its details, page 2, then 5 of the 10 grants page 2 needs
    result, loaded = run_under_budget(harness, cards, DAY, "run-1", per_day)
    manifest = harness.manifest(result)
    assert loaded.status == "budget_exhausted" and result.records == 10
    assert manifest["resume"]["next_request"]["index"] == 2 and result.api_calls == 12
    assert harness.query("SELECT granted, outstanding FROM ops.call_budget_grants") == [(12, 0)]
    next_budget_window(harness)
    result, loaded = run_under_budget(harness, cards, DAY + timedelta(days=1), "run-2", 10_000)
    assert loaded.status == "loaded" and harness.manifest(result)["resumed_from"] == DAY.isoformat()
    detail = re.compile(r"/cards/[^/]+$")
    by_path = harness.replay.stats()["by_path"]
    details = {path: n for path, n in by_path.items() if detail.search(path)}
    assert len(details) == total and set(details.values()) == {1}
    assert harness.query("SELECT count(*), count(DISTINCT _record_key) FROM raw.tcgdex__cards") == [
        (total, total)
    ]
