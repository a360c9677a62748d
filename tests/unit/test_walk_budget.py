"""The pure parts of a list walk under a call budget (ingest/walk_budget.py): grants per page and
all-or-none per fan-out page, the manifest fields of a stop, and the resume they lead to."""

from __future__ import annotations

from datetime import date

import pytest

from game_market_pipeline.budget import CountingGate
from game_market_pipeline.config.loader import load_config
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.ingest.guards import WalkStopped
from game_market_pipeline.ingest.paginators import PageRequest
from game_market_pipeline.ingest.pipeline import make_client
from game_market_pipeline.ingest.walk_budget import (
    STATUS_BUDGET_EXHAUSTED,
    BudgetedWalkGuard,
    BudgetExhausted,
    resume_from,
    run_status,
    stop_fields,
)

DAY = date(2026, 11, 20)


class DailyGate(CountingGate):
    """A CountingGate that says its limit is per day, as SharedCallBudget does."""

    @property
    def calls_per_day(self) -> int:
        return self.limit


def guard_with(gate):
    endpoint = load_config().endpoint("tcgdex", "cards")
    client = make_client(endpoint, ApiSettings("http://127.0.0.1:9/v2/en", None, 100.0, 100, 1.0))
    return BudgetedWalkGuard(endpoint, client, 0, gate), client


def page(index: int) -> PageRequest:
    return PageRequest(index, "/cards", {"pagination:page": index})


def test_a_page_takes_one_grant_and_a_fan_out_page_all_its_details_or_none():
    gate = CountingGate(1 + 10 + 1 + 5)
    guard, client = guard_with(gate)
    try:
        guard.before_page(page(1))
        guard.before_details(page(1), 10)
        guard.before_page(page(2))
        with pytest.raises(BudgetExhausted) as stopped:
            guard.before_details(page(2), 10)  # 5 grants left: none taken
        assert stopped.value.request == page(2) and gate.used == 12 == guard.granted
        assert "page 2" in str(stopped.value) and "resumes here" in str(stopped.value)
    finally:
        client.close()


def test_a_fan_out_page_larger_than_the_whole_budget_is_a_walk_stop_not_a_budget_stop():
    guard, client = guard_with(DailyGate(100))
    try:
        with pytest.raises(WalkStopped) as stopped:
            guard.before_details(page(1), 250)
        assert not isinstance(stopped.value, BudgetExhausted)
        assert "paginator.page_size" in str(stopped.value)
    finally:
        client.close()


def test_a_stop_then_a_resume_then_the_end_carry_the_window_and_the_records():
    stop = BudgetExhausted("spent", page(5))
    first = stop_fields(stop, None, page(5).to_json(), {"updated": "2026-11-01,2026-11-20"}, DAY, 400, 160)
    assert first["status"] == STATUS_BUDGET_EXHAUSTED and first["window_end"] == "2026-11-20"
    assert first["resume"]["records_so_far"] == 160 and first["resume"]["expected_records"] == 400
    resumed = resume_from({"complete": True, **first})
    assert resumed is not None and resumed.next_request["index"] == 5
    assert resumed.filters == {"updated": "2026-11-01,2026-11-20"} and resumed.stopped_on == "2026-11-20"

    second = stop_fields(
        BudgetExhausted("spent", page(9)),
        resumed,
        page(9).to_json(),
        resumed.filters,
        date(2026, 11, 21),
        400,
        160,
    )
    assert second["resume"]["records_so_far"] == 320 and second["resume"]["window_end"] == "2026-11-20"
    assert second["resumed_from"] == "2026-11-20"

    done = stop_fields(None, resume_from(second), None, resumed.filters, date(2026, 11, 22), 400, 80)
    assert done == {"window_end": "2026-11-20", "resumed_from": "2026-11-21"}
    assert resume_from(done) is None and resume_from(None) is None


def test_the_run_status_says_where_the_next_run_resumes():
    stopped = stop_fields(BudgetExhausted("spent", page(5)), None, page(5).to_json(), {}, DAY, None, 160)
    assert run_status(stopped) == (
        STATUS_BUDGET_EXHAUSTED,
        "call budget spent: 160 records landed so far; the next run resumes at page 5",
    )
    assert run_status({"resumed_from": "2026-11-20"}) == (
        None,
        "finished the walk stopped at the budget on 2026-11-20",
    )
    assert run_status({}) == (None, None)
