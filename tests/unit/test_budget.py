"""gmp-budget: the committed config's schedules fit the call budgets it declares, and the estimate
is the schedule x pages x totals arithmetic the docs describe."""

from __future__ import annotations

import copy

import pytest
import yaml

from game_market_pipeline.budget import (
    DAYS_PER_MONTH,
    CountingGate,
    endpoint_cost,
    main,
    report,
    runs_per_day,
)
from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config


def _config_with(tmp_path, change) -> object:
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    changed = copy.deepcopy(raw)
    change(changed)
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(changed, sort_keys=False))
    return load_config(path)


def _endpoint(raw: dict, source: str, name: str) -> dict:
    return next(
        e for e in next(s for s in raw["sources"] if s["name"] == source)["endpoints"] if e["name"] == name
    )


def test_the_committed_config_fits_every_budget_it_declares(capsys):
    text, ok = report(load_config())
    assert ok, text
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "rawg.game_details" in out and "OVER" not in out
    # Every RAWG endpoint is accounted for (the free tier is the tight one).
    assert all(f"rawg.{e.name}" in out for e in load_config().endpoints if e.source == "rawg")


def test_a_weekly_full_developer_list_does_not_fit_rawgs_free_tier(tmp_path, capsys):
    loaded = _config_with(
        tmp_path, lambda raw: _endpoint(raw, "rawg", "developers").update(schedule="@weekly")
    )
    text, ok = report(loaded)
    assert not ok and "rawg" in text and "OVER" in text
    assert main(["--config", str(loaded.path)]) == 1


def test_a_daily_budget_is_checked_against_the_worst_day(tmp_path):
    def tighten(raw):
        next(s for s in raw["sources"] if s["name"] == "rawg")["budget"]["calls_per_day"] = 100

    text, ok = report(_config_with(tmp_path, tighten))
    assert not ok and "/day" in text


def test_the_estimate_follows_schedule_page_size_totals_and_fan_out():
    loaded = load_config()
    tags = endpoint_cost(loaded.endpoint("rawg", "tags"))
    assert tags.calls_per_run == -(-9672 // 40) and tags.runs_per_month == pytest.approx(1.0)
    cards = endpoint_cost(loaded.endpoint("tcgdex", "cards"))
    assert cards.calls_per_run == -(-18014 // 250) + 18014  # pages + one detail per card
    games = endpoint_cost(loaded.endpoint("rawg", "games"))
    # Incremental: the run re-reads the records changed in its inclusive two-day window.
    assert games.calls_per_run == -(-400 * 2 // 40) and games.first_crawl_calls == -(-872466 // 40)
    details = endpoint_cost(loaded.endpoint("rawg", "game_details"))
    assert details.calls_per_run == 400 and details.calls_per_month == pytest.approx(400 * DAYS_PER_MONTH)
    assert endpoint_cost(loaded.endpoint("rawg", "developers")).calls_per_month == 0  # manual only


@pytest.mark.parametrize(
    ("schedule", "per_day"),
    [
        ("@daily", 1),
        ("@weekly", 1 / 7),
        ("@hourly", 24),
        (None, 0),
        ("0 6 * * *", 1),
        ("*/30 * * * *", 48),
        ("0 3 * * 1", 1 / 7),
        ("0 3 * * 1-5", 5 / 7),
        ("0 0 1 * *", 1 / DAYS_PER_MONTH),
    ],
)
def test_runs_per_day_of_presets_and_cron(schedule, per_day):
    assert runs_per_day(schedule) == pytest.approx(per_day)


def test_an_unknown_schedule_is_named():
    with pytest.raises(ValueError, match="'every tuesday'"):
        runs_per_day("every tuesday")


def test_an_endpoint_without_totals_cannot_be_estimated(tmp_path):
    loaded = _config_with(tmp_path, lambda raw: _endpoint(raw, "rawg", "tags").pop("totals"))
    with pytest.raises(ValueError, match=r"rawg\.tags: no `totals`"):
        report(loaded)


def test_details_of_a_missing_list_endpoint_is_a_problem(tmp_path):
    loaded = _config_with(
        tmp_path, lambda raw: _endpoint(raw, "rawg", "game_details")["details_of"].update(endpoint="gamez")
    )
    text, ok = report(loaded)
    assert not ok and "'gamez' is not an endpoint of source 'rawg'" in text


def test_counting_gate_allows_exactly_its_limit():
    gate = CountingGate(3)
    assert [gate.acquire() for _ in range(5)] == [True, True, True, False, False]
