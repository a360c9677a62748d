"""The Data health page's queries and HTML against a real Postgres filled through the real code paths."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from game_market_pipeline.health.queries import (
    EndpointSpec,
    HealthSettings,
    QuarantinedRecord,
    collect,
    freshness,
    schedule_interval,
)
from game_market_pipeline.health.render import UiLinks, quarantine_section, render_health_page
from tests.conftest import FAKE_RAWG_KEY
from tests.ui import seed

pytestmark = pytest.mark.integration

SPECS = [
    EndpointSpec("rawg", "genres", "ingest__rawg__genres", "@weekly"),
    EndpointSpec("tcgdex", "series", "ingest__tcgdex__series", "@weekly"),
    EndpointSpec("pokeapi", "pokemon", "ingest__pokeapi__pokemon", "@weekly"),
]


@pytest.fixture
def seeded(harness):
    seeded = seed.seed_ingestion(harness, harness.replay)
    seed.seed_quality_and_production(harness.pg_url)
    return seeded


def _collect(pg_url: str, now: datetime | None = None):
    conn = psycopg2.connect(pg_url)
    try:
        return collect(conn, SPECS, HealthSettings(), now=now)
    finally:
        conn.close()


def test_report_reads_ingestion_quality_production_and_quarantine(harness, seeded):
    report = _collect(harness.pg_url)

    assert [(e.spec.source, e.spec.endpoint) for e in report.endpoints] == sorted(
        (s.source, s.endpoint) for s in SPECS
    )
    by_name = {e.spec.endpoint: e for e in report.endpoints}
    genres, pokemon, series = by_name["genres"], by_name["pokemon"], by_name["series"]
    assert (genres.spec.endpoint, genres.ingest_date, genres.status) == ("genres", seed.DAY_2, "loaded")
    assert (genres.records, genres.quarantined) == (19, 1)
    assert genres.new_rows == 0  # day 2's 18 good genres are unchanged since day 1
    assert [d.records for d in genres.days] == [19, 19]
    assert genres.api_calls >= 1
    assert genres.top_reason and genres.top_reason_count == 1
    assert [d.quarantined for d in genres.days] == [0, 1]
    assert genres.freshness.state == "fresh"
    assert series.status == "loaded" and series.quarantined == 0 and series.top_reason is None
    assert pokemon.status is None and pokemon.freshness.state == "never"

    quality = report.quality
    assert (quality.latest.build_id, quality.latest.verdict) == (seed.BUILD_3, "failed")
    failing = {c.check_id: c for c in quality.not_passed}
    assert set(failing) == {seed.FAILING_ERROR_CHECK, seed.FAILING_WARN_CHECK}
    assert (failing[seed.FAILING_ERROR_CHECK].observed, failing[seed.FAILING_ERROR_CHECK].threshold) == (0, 1)
    history = quality.history[seed.FAILING_WARN_CHECK]
    assert [c.build_id for c in history] == [seed.BUILD_3, seed.BUILD_2, seed.BUILD_1]
    assert [c.passed for c in history] == [False, False, True]

    production = report.production
    assert (production.production_build, production.previous_build) == (seed.BUILD_2, seed.BUILD_1)
    assert production.can_roll_back
    assert production.current.requested_by == seed.BUILD_2
    assert [p.build_id for p in production.history] == [seed.BUILD_2, seed.BUILD_1]

    [record] = report.quarantine[("rawg", "genres")]
    assert record.s3_uri.startswith(seeded.quarantined_s3_prefix) and record.s3_uri.startswith("s3://")
    assert record.reasons and record.ingest_date == seed.DAY_2
    assert record.run_id == seed.ingest_run_id(seed.DAY_2)


def test_page_shows_every_section_with_links_and_no_secret(harness, seeded, pg_url):
    started = time.perf_counter()
    report = _collect(harness.pg_url)
    html = render_health_page(report, UiLinks("../"), rollback_allowed=True)
    elapsed = time.perf_counter() - started

    assert "FAILED" in html and seed.FAILING_ERROR_CHECK in html and seed.FAILING_WARN_CHECK in html
    run = "scheduled__2026-11-20T00%3A00%3A00%2B00%3A00"
    assert f'href="../dags/ingest__rawg__genres/runs/{run}/tasks/load_to_staging"' in html
    gate = "manual__2026-11-20T12%3A00%3A00%2B00%3A00"
    assert f'href="../dags/transform_warehouse/runs/{gate}/tasks/quality_gate"' in html
    assert f"dags/transform_warehouse/runs/{run}/tasks/promote_to_production" in html
    assert 'id="rollback"' in html and f"Roll back to build {seed.BUILD_1}" in html
    assert seeded.quarantined_s3_prefix in html
    assert "<svg" in html
    # Nothing about connections or credentials reaches the page.
    host_port = pg_url.split("@", 1)[1].split("/", 1)[0]
    for secret in (FAKE_RAWG_KEY, host_port, "password", "postgresql://"):
        assert secret not in html
    assert elapsed < 1.0, f"collect + render took {elapsed:.2f}s"


def test_viewer_sees_no_rollback_button(harness, seeded):
    html = render_health_page(_collect(harness.pg_url), UiLinks("../"), rollback_allowed=False)
    assert 'id="rollback"' not in html and "may not trigger" in html


def test_empty_warehouse_renders_nothing_yet(fresh_pg_url):
    report = _collect(fresh_pg_url)
    html = render_health_page(report, UiLinks("../"))
    assert "No build has reached the quality gate yet" in html
    assert "Nothing has been promoted to production yet" in html
    assert "No record has been quarantined" in html
    assert html.count("never ran") == len(SPECS)


def test_values_are_escaped():
    record = QuarantinedRecord(
        "rawg", "genres", "run<1>", seed.DAY_1, "<script>alert(1)</script>", ("name: <b>bad</b>",),
        "s3://lake/quarantine/x.jsonl", datetime.now(UTC),
    )  # fmt: skip
    html = quarantine_section({("rawg", "genres"): [record]}, UiLinks("../"))
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bad" not in html


def test_freshness_against_the_schedule():
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert schedule_interval("@daily", now) == timedelta(days=1)
    assert schedule_interval("0 */6 * * *", now) == timedelta(hours=6)
    assert schedule_interval(None, now) is None
    assert freshness("@daily", now - timedelta(hours=30), now).state == "fresh"
    assert freshness("@daily", now - timedelta(hours=40), now).state == "late"
    assert freshness("@weekly", None, now).state == "never"
    assert freshness(None, now - timedelta(days=90), now).state == "unscheduled"


def test_the_plugin_builds_its_app_only_in_the_api_server():
    """Every Airflow component imports plugins (tasks too): importing this one must stay light."""
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    probe = (
        "import sys; sys.path.insert(0, 'plugins'); import data_health; "
        "p = data_health.DataHealthPlugin; "
        "assert p.fastapi_apps[0]['url_prefix'] == '/data-health'; "
        "assert p.external_views[0]['href'] == 'data-health/'; "
        "print(sorted(m for m in ('fastapi', 'airflow.api_fastapi.core_api.security') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_an_unreachable_rest_api_is_reported_not_raised():
    import asyncio
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from game_market_pipeline.health.app import trigger_rollback

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    call = trigger_rollback(f"http://127.0.0.1:{port}", "token", seed.BUILD_1, "", "ROLLBACK", "someone")
    # A thread of its own: Playwright's sync API (tests/ui/test_browser.py) keeps a loop on this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        ok, message, run_id = pool.submit(asyncio.run, call).result()
    assert (ok, run_id) == (False, None) and "did not answer" in message and "token" not in message


def test_a_failed_verdict_without_failed_checks_says_incomplete():
    from game_market_pipeline.health.queries import QualityHealth, VerdictRow
    from game_market_pipeline.health.render import quality_section

    failed = VerdictRow(seed.BUILD_3, "failed", 2, 0, 0, datetime.now(UTC))
    html = quality_section(QualityHealth(latest=failed, recent_verdicts=[failed]), UiLinks("../"))
    assert "FAILED" in html and "incomplete" in html and "Every check of this build passed" not in html


def test_budget_left_per_source_comes_from_the_calls_counted_today(harness, seeded):
    """The calls the ingestion really counted (ops.api_calls, written by the seeding's runs) against
    each source's budget: what is left today and this month, and no row for a source without one."""
    from game_market_pipeline.health.queries import SourceBudget
    from game_market_pipeline.health.render import budget_section

    counted = dict(
        harness.query(
            "SELECT source, sum(calls)::int FROM ops.api_calls WHERE day = (now() AT TIME ZONE 'UTC')::date "
            "GROUP BY source"
        )
    )
    assert counted.get("rawg", 0) >= 1
    budgets = (SourceBudget("rawg", 1000, 20000), SourceBudget("pokeapi", None, 10000))
    conn = psycopg2.connect(harness.pg_url)
    try:
        report = collect(conn, SPECS, HealthSettings(budgets=budgets))
    finally:
        conn.close()
    by_source = {row.budget.source: row for row in report.budgets}
    assert set(by_source) == {"rawg", "pokeapi"}
    rawg = by_source["rawg"]
    assert rawg.calls_today == counted["rawg"] and rawg.left_today == 1000 - counted["rawg"]
    assert rawg.left_this_month == 20000 - rawg.calls_this_month
    assert by_source["pokeapi"].left_today is None
    html = budget_section(report.budgets)
    assert f"{1000 - counted['rawg']:,} left" in html and "(no limit)" in html
