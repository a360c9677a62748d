"""The quality gate sensor's decisions, and the verdict report, on real Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException
from psycopg2 import sql

from game_market_pipeline.config.quality import QualityConfig
from game_market_pipeline.promotion.report import latest_verdict
from game_market_pipeline.promotion.swap import promote
from game_market_pipeline.quality.checks import EvaluationContext, plan_checks
from game_market_pipeline.quality.gate import QualityGateSensor
from game_market_pipeline.quality.runner import run_quality_checks
from tests.quality.conftest import QUALITY_SECTION, write_build

pytestmark = pytest.mark.integration


class FakeTI:
    dag_id, task_id, run_id = "transform_warehouse", "quality_gate", "manual__b1"

    def __init__(self, first_poke: datetime | None = None):
        self.first_poke = first_poke
        self.start_date = datetime.now(UTC)

    def get_first_reschedule_date(self, context):
        return self.first_poke


class RecordingNotifier:
    def __init__(self):
        self.messages: list[str] = []

    def with_message(self, message, subject=None):
        self.messages.append(message)
        return self

    def notify(self, context):
        pass


def _sensor(pg_url, wap, monkeypatch, build_id, expected, notifier=None, timeout=3600):
    import psycopg2

    sensor = QualityGateSensor(
        task_id="quality_gate",
        build_id=build_id,
        expected_check_ids=expected,
        ops_schema=wap.ops,
        warning_notifier=notifier,
        poke_interval=30,
        timeout=timeout,
    )
    monkeypatch.setattr(sensor, "_connect", lambda: psycopg2.connect(pg_url))
    return sensor


def _evaluate(conn, wap, build_id, section=QUALITY_SECTION, dbt_states=None):
    plan = plan_checks(QualityConfig.model_validate(section))
    ctx = EvaluationContext(wap.schemas.audit, wap.schemas.production, wap.raw, wap.ops)
    run_quality_checks(conn, build_id, plan, ctx, dbt_task_states=dbt_states or {"dbt.run_models": "success"})
    return plan


def test_gate_waits_while_a_check_of_the_build_has_no_result(pg_url, conn, wap, monkeypatch):
    plan = plan_checks(QualityConfig.model_validate(QUALITY_SECTION))
    sensor = _sensor(pg_url, wap, monkeypatch, "b1", plan.expected_check_ids)
    assert sensor.mode == "reschedule"
    assert sensor.poke({"ti": FakeTI()}) is False  # nothing evaluated yet
    write_build(conn, wap, "b1")
    _evaluate(conn, wap, "b1")
    late = _sensor(pg_url, wap, monkeypatch, "b1", plan.expected_check_ids + ("fact_sales.some_new_check",))
    assert late.poke({"ti": FakeTI()}) is False  # still one missing
    done = sensor.poke({"ti": FakeTI()})
    assert isinstance(done, PokeReturnValue) and done.is_done
    assert done.xcom_value["verdict"] == "passed" and done.xcom_value["failed_errors"] == 0


def test_gate_fails_without_retry_naming_each_failed_error_check_with_observed_and_threshold(
    pg_url, conn, wap, monkeypatch
):
    write_build(conn, wap, "b1", null_amounts=2, orphan_stores=1)
    plan = _evaluate(conn, wap, "b1")
    sensor = _sensor(pg_url, wap, monkeypatch, "b1", plan.expected_check_ids)
    with pytest.raises(AirflowFailException) as failure:
        sensor.poke({"ti": FakeTI()})
    message = str(failure.value)
    assert "quality gate failed for build b1: 2 error check(s) failed" in message
    assert "fact_sales.null_rate.amount [error] on fact_sales: observed 0.181818, threshold <= 0" in message
    assert (
        "fact_sales.relationships.store_key->dim_store.store_key [error] on fact_sales: observed 1" in message
    )
    report = latest_verdict(conn, wap.ops)
    assert report.startswith("quality gate: FAILED for build b1")
    assert "[error] fact_sales.null_rate.amount: observed 0.181818, threshold <= 0" in report
    assert "production: nothing promoted yet" in report


def test_failed_warn_checks_alert_but_do_not_block(pg_url, conn, wap, monkeypatch):
    write_build(conn, wap, "b1", sales=10)
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2", sales=30)  # +200 % rows: relative_change (warn) fails
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("UPDATE {} SET sold_at = now() - interval '2 days'").format(  # freshness (warn) fails
                sql.Identifier(wap.schemas.audit, "fact_sales")
            )
        )
    conn.commit()
    plan = _evaluate(conn, wap, "b2")
    notifier = RecordingNotifier()
    done = _sensor(pg_url, wap, monkeypatch, "b2", plan.expected_check_ids, notifier).poke({"ti": FakeTI()})
    assert done.is_done and done.xcom_value["verdict"] == "passed" and done.xcom_value["failed_warnings"] == 2
    (message,) = notifier.messages
    assert "fact_sales.relative_change [warn]" in message and "observed 2, threshold <= 0.5" in message
    assert "fact_sales.freshness [warn]" in message
    promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    report = latest_verdict(conn, wap.ops)
    assert report.startswith("quality gate: PASSED for build b2")
    assert (
        "2 warning(s)" in report
        and "production: promoted build b2" in report
        and "(previous build b1)" in report
    )


def test_a_failed_dbt_task_fails_the_gate(pg_url, conn, wap, monkeypatch):
    write_build(conn, wap, "b1")
    plan = _evaluate(
        conn, wap, "b1", dbt_states={"dbt.fact_sales_run": "success", "dbt.fact_sales_test": "failed"}
    )
    with pytest.raises(
        AirflowFailException, match=r"dbt.build \[error\] on dbt: observed 1.*fact_sales_test"
    ):
        _sensor(pg_url, wap, monkeypatch, "b1", plan.expected_check_ids).poke({"ti": FakeTI()})


def test_gate_fails_naming_the_missing_checks_when_its_time_is_up(pg_url, conn, wap, monkeypatch):
    sensor = _sensor(pg_url, wap, monkeypatch, "b1", ("fact_sales.row_count",), timeout=60)
    long_ago = datetime.now(UTC) - timedelta(seconds=45)
    with pytest.raises(AirflowFailException, match="still without a result.*fact_sales.row_count"):
        sensor.poke({"ti": FakeTI(first_poke=long_ago)})


def test_latest_verdict_before_any_build(conn, wap):
    assert latest_verdict(conn, wap.ops) == "quality gate: no verdict yet (no build has reached the gate)"
