"""`watch_source_freshness` against a real Postgres with the log notifier: one alert listing exactly
the endpoints whose last landing is older than their schedule allows (the Data health page's rule)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from game_market_pipeline.config.loader import load_config
from game_market_pipeline.config.quality import AlertSettings
from game_market_pipeline.health.queries import FRESHNESS_GRACE
from game_market_pipeline.quality.notifier import QualityAlertNotifier
from game_market_pipeline.quality.source_freshness import ALERT_SUBJECT, check_source_freshness
from game_market_pipeline.warehouse.migrate import ensure_migrated

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _landed(conn, source: str, endpoint: str, status: str, finished_at: datetime) -> None:
    with conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ops.ingest_runs (run_id, source, endpoint, ingest_date, status, finished_at) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (f"run-{endpoint}-{finished_at:%j%H}", source, endpoint, finished_at.date(), status, finished_at),
        )


def _alerts(caplog, capsys) -> str:
    captured = capsys.readouterr()  # Airflow's task logger may write through structlog, not `logging`
    return caplog.text + captured.out + captured.err


def test_one_alert_lists_exactly_the_late_endpoints(fresh_pg_url, caplog, capsys):
    loaded = load_config()
    scheduled = [e for e in loaded.endpoints if e.schedule == "@daily"]
    assert len(scheduled) >= 3
    on_time, late, stuck = scheduled[:3]
    conn = psycopg2.connect(fresh_pg_url)
    try:
        ensure_migrated(conn, "ops", "raw")
        every = timedelta(days=1)
        _landed(conn, on_time.source, on_time.name, "loaded", NOW - every)
        # Older than the interval plus its grace: late, whatever came after it that did not land.
        _landed(
            conn, late.source, late.name, "loaded", NOW - every * (1 + FRESHNESS_GRACE) - timedelta(hours=1)
        )
        _landed(conn, late.source, late.name, "failed_count_mismatch", NOW - timedelta(hours=2))
        # A walk stopped at its budget for days has not landed a complete date: late too.
        _landed(conn, stuck.source, stuck.name, "loaded", NOW - timedelta(days=4))
        _landed(conn, stuck.source, stuck.name, "budget_exhausted", NOW - timedelta(hours=3))
        notifier = QualityAlertNotifier.from_settings(AlertSettings())
        with caplog.at_level(logging.WARNING):
            found = check_source_freshness(notifier=notifier, now=NOW, conn=conn)
        text = _alerts(caplog, capsys)
        assert found["alerted"] and sorted(found["late"]) == sorted([late.dag_id, stuck.dag_id])
        assert on_time.dag_id not in found["late"] and on_time.dag_id not in found["never"]
        assert text.count(ALERT_SUBJECT) == 1, text
        assert f"- {late.dag_id} (@daily): last landed" in text and "last run failed_count_mismatch" in text
        assert f"- {stuck.dag_id} (@daily)" in text and "last run budget_exhausted" in text
        assert "2 endpoint(s) have not landed data within their schedule" in text

        # Everything landed within its schedule: no alert at all.
        for endpoint in (late, stuck):
            _landed(conn, endpoint.source, endpoint.name, "loaded", NOW - timedelta(hours=1))
        with caplog.at_level(logging.WARNING):
            again = check_source_freshness(notifier=notifier, now=NOW, conn=conn)
        assert again["late"] == [] and not again["alerted"]
        assert ALERT_SUBJECT not in _alerts(caplog, capsys).replace(text, "")
    finally:
        conn.close()


def test_the_dag_runs_daily_with_a_timeout_retries_and_the_notifier_on_failure():
    from game_market_pipeline.quality.source_freshness import EXECUTION_TIMEOUT, build_freshness_dag

    dag = build_freshness_dag(load_config())
    (task,) = dag.tasks
    assert dag.dag_id == "watch_source_freshness" and dag.tags
    assert dag.schedule == "@daily"
    assert task.execution_timeout == EXECUTION_TIMEOUT and task.retries >= 2
    assert any(isinstance(cb, QualityAlertNotifier) for cb in task.on_failure_callback)
