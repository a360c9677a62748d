"""RAWG game details by fan-out from staging, incremental — over the replay server (HTTP), moto S3 and
a real Postgres: one detail call per new or changed game, none for an unchanged one, most valuable
first under a per-run cap, and a budget that stops a run with `budget_exhausted` without losing or
duplicating anything."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import psycopg2
import pytest

from game_market_pipeline.budget import CountingGate
from tests.integration.conftest import DAY

pytestmark = pytest.mark.integration

DETAIL_PATH = re.compile(r"^/rawg/api/games/(\d+)$")


def detail_calls(replay: Any) -> dict[int, int]:
    """Game id -> detail requests the replay server answered since its last reset."""
    return {
        int(m.group(1)): count
        for path, count in replay.stats()["by_path"].items()
        if (m := DETAIL_PATH.match(path))
    }


def run_details(harness: Any, endpoint: Any, day: Any, run_id: str, gate: Any = None) -> tuple[Any, Any]:
    result = harness.extract(
        endpoint, day, run_id, warehouse=lambda: psycopg2.connect(harness.pg_url), gate=gate
    )
    return result, harness.load(endpoint, result, run_id)


def details_endpoint(harness: Any, cap: int = 10_000) -> Any:
    endpoint = harness.endpoint("rawg", "game_details")
    return endpoint.model_copy(
        update={"details_of": endpoint.details_of.model_copy(update={"max_calls_per_run": cap})}
    )


def test_first_run_then_unchanged_day_then_one_changed_game(harness, monkeypatch):
    games, details = harness.endpoint("rawg", "games"), details_endpoint(harness)
    listed = harness.replay.app.corpus.rawg.games
    harness.run(games)
    result, loaded = run_details(harness, details, DAY, "run-1")
    # Day 1: one detail call per staged game, every detail in staging, each remembered with its list version.
    calls = detail_calls(harness.replay)
    assert set(calls) == {g["id"] for g in listed} and set(calls.values()) == {1}
    assert result.api_calls == len(listed) and loaded.status == "loaded"
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__game_details"') == [
        (len(listed), len(listed))
    ]
    assert harness.query(
        """SELECT count(*) FROM ops.detail_fetches d JOIN raw.rawg__games g
           ON g._record_key = d.record_key AND g._content_hash = d.parent_hash"""
    ) == [(len(listed),)]
    assert harness.query(
        "SELECT count(*) FROM raw.rawg__game_details WHERE jsonb_array_length(payload -> 'developers') > 0"
    ) == [(len(listed),)]

    # Day 2, nothing changed at the source: no detail call at all.
    harness.replay.reset()
    harness.run(games, day=DAY + timedelta(days=1), run_id="run-2")
    result, _ = run_details(harness, details, DAY + timedelta(days=1), "run-2")
    assert detail_calls(harness.replay) == {} and result.api_calls == 0 and result.records == 0

    # Day 3: one game's list item changed (more players added it, so RAWG bumped `updated`).
    changed_at = listed.index(
        next(g for g in listed if g["id"] not in harness.replay.app.corpus.rawg.game_details)
    )
    changed = {
        **listed[changed_at],
        "added": listed[changed_at]["added"] + 7,
        "updated": f"{(DAY + timedelta(days=2)).isoformat()}T08:00:00",
    }
    monkeypatch.setattr(
        harness.replay.app.corpus.rawg, "games", [*listed[:changed_at], changed, *listed[changed_at + 1 :]]
    )
    harness.replay.reset()
    harness.run(games, day=DAY + timedelta(days=2), run_id="run-3")
    result, loaded = run_details(harness, details, DAY + timedelta(days=2), "run-3")
    assert detail_calls(harness.replay) == {changed["id"]: 1}
    assert result.api_calls == 1 and loaded.inserted == 1
    latest = harness.query(
        """SELECT payload ->> 'added' FROM raw.rawg__game_details WHERE _record_key = %s
           ORDER BY _ingested_at DESC LIMIT 1""",
        (str(changed["id"]),),
    )
    assert latest == [(str(changed["added"]),)]


def test_cap_takes_the_most_recently_updated_first_and_records_the_backlog(harness):
    harness.run(harness.endpoint("rawg", "games"))
    listed = harness.replay.app.corpus.rawg.games
    result, loaded = run_details(harness, details_endpoint(harness, cap=5), DAY, "run-1")
    newest = sorted(listed, key=lambda g: (g.get("updated") or "", g.get("added") or 0), reverse=True)[:5]
    fetched = {int(k) for (k,) in harness.query("SELECT record_key FROM ops.detail_fetches")}
    assert fetched == {g["id"] for g in newest} and result.api_calls == 5
    manifest = harness.manifest(result)["details"]
    assert manifest["backlog_before"] == len(listed) and manifest["backlog_after"] == len(listed) - 5
    assert harness.query("SELECT status, message FROM ops.ingest_runs WHERE endpoint = 'game_details'") == [
        ("loaded", f"details: 5 fetched, 0 gone, backlog {len(listed)} -> {len(listed) - 5}")
    ]


def test_budget_stops_the_run_and_the_next_window_finishes_without_loss_or_duplicate(harness):
    harness.run(harness.endpoint("rawg", "games"))
    listed = harness.replay.app.corpus.rawg.games
    details = details_endpoint(harness)
    result, loaded = run_details(harness, details, DAY, "run-1", gate=CountingGate(7))
    assert result.api_calls == 7 and loaded.status == "budget_exhausted"
    assert harness.manifest(result)["details"]["status"] == "budget_exhausted"
    assert harness.query("SELECT status FROM ops.ingest_runs WHERE endpoint = 'game_details'") == [
        ("budget_exhausted",)
    ]
    # The next budget window (the next day) resumes with what is left, and only that.
    result, loaded = run_details(
        harness, details, DAY + timedelta(days=1), "run-2", gate=CountingGate(10_000)
    )
    assert result.api_calls == len(listed) - 7 and loaded.status == "loaded"
    assert set(detail_calls(harness.replay).values()) == {1}
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__game_details"') == [
        (len(listed), len(listed))
    ]


def test_a_game_gone_since_it_was_listed_is_remembered_not_refetched(harness, monkeypatch):
    harness.run(harness.endpoint("rawg", "games"))
    listed = harness.replay.app.corpus.rawg.games
    gone = next(g for g in listed if g["id"] not in harness.replay.app.corpus.rawg.game_details)
    monkeypatch.setattr(harness.replay.app.corpus.rawg, "games", [g for g in listed if g is not gone])
    details = details_endpoint(harness)
    result, _ = run_details(harness, details, DAY, "run-1")
    assert harness.manifest(result)["details"]["not_found"] == {
        str(gone["id"]): harness.query(
            "SELECT _content_hash FROM raw.rawg__games WHERE _record_key = %s", (str(gone["id"]),)
        )[0][0]
    }
    harness.replay.reset()
    second, _ = run_details(harness, details, DAY + timedelta(days=1), "run-2")
    assert second.api_calls == 0


def test_details_without_the_list_in_staging_fetch_nothing(harness):
    result, loaded = run_details(harness, details_endpoint(harness), DAY, "run-1")
    assert result.api_calls == 0 and result.records == 0 and loaded.status == "loaded"


def test_two_runs_of_one_source_at_once_never_exceed_the_shared_budget_together(harness):
    """Two detail runs at once (two dates: two leases, two pods in production), each with its own
    gate on the warehouse, as every task builds one: together they stay within the source's budget,
    both land what they fetched, and the next budget window grants again."""
    import threading

    from game_market_pipeline.warehouse.call_budget import SharedCallBudget

    harness.run(harness.endpoint("rawg", "games"))
    list_calls = harness.query("SELECT coalesce(sum(calls), 0) FROM ops.api_calls WHERE source = 'rawg'")[0][
        0
    ]
    per_day = int(list_calls) + 12
    details = details_endpoint(harness)
    harness.replay.reset()
    results: dict[str, Any] = {}

    def run(day: Any, run_id: str) -> None:
        gate = SharedCallBudget(harness.connect, "ops", "rawg", per_day, None)
        try:
            results[run_id] = run_details(harness, details, day, run_id, gate=gate)
        finally:
            gate.close()

    threads = [
        threading.Thread(target=run, args=(DAY + timedelta(days=offset), f"run-{offset}"))
        for offset in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    made = sum(detail_calls(harness.replay).values())
    # Every call to rawg today, list pages included, within the budget; each grant used exactly once
    # (the list walk's pages took theirs too: ingest/walk_budget.py).
    assert 0 < made <= per_day - list_calls, (made, per_day, list_calls)
    assert harness.query(
        "SELECT sum(granted), sum(outstanding) FROM ops.call_budget_grants WHERE source = 'rawg'"
    ) == [(made + list_calls, 0)]
    assert {loaded.status for _, loaded in results.values()} == {"budget_exhausted"}
    # The next budget window grants again.
    tomorrow = SharedCallBudget(
        harness.connect, "ops", "rawg", per_day, None, today=lambda: DAY + timedelta(days=400)
    )
    assert tomorrow.acquire()
    tomorrow.close()
