"""Freshness warnings to the notifier: the daily DAG `watch_source_freshness` sends ONE alert listing
every endpoint whose last successful landing is older than its schedule allows.

"Late" is the Data health page's rule, reused (health/queries.py `collect` → `freshness`): an
endpoint is late once its newest landing (`ops.ingest_runs` status `loaded` or
`skipped_already_loaded`) is older than its schedule's interval plus FRESHNESS_GRACE of it.
Unscheduled endpoints are never late; an endpoint that never landed is listed in the alert's last
line but does not trigger one alone (a fresh deployment is not an incident). A budget-stopped run
(`budget_exhausted`) is not a landing here: a walk stuck at its budget for days turns late.

Built here, registered by the thin `dags/watch_source_freshness.py`. The DAG loads even when the
config does not (reported by dags/config_problems.py); its run then fails and alerts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

FRESHNESS_DAG_ID = "watch_source_freshness"
ALERT_SUBJECT = "[game-market-pipeline] sources are late"
EXECUTION_TIMEOUT = timedelta(minutes=10)  # one read-only query round: minutes mean a stuck warehouse


def _hours(delta: timedelta | None) -> str:
    return "?" if delta is None else f"{delta.total_seconds() / 3600:.0f} h"


def freshness_report(conn: Any, loaded: Any, now: datetime | None = None) -> tuple[list[Any], list[Any]]:
    """(late endpoints, never-landed scheduled endpoints) as the Data health page sees them now."""
    from game_market_pipeline.health.queries import EndpointSpec, HealthSettings, collect
    from game_market_pipeline.warehouse.schemas import WarehouseSchemas

    config = loaded.config
    specs = [EndpointSpec(e.source, e.name, e.dag_id, e.schedule) for e in loaded.endpoints]
    settings = HealthSettings(schemas=WarehouseSchemas.from_config(config))
    endpoints = collect(conn, specs, settings, now).endpoints
    late = [e for e in endpoints if e.freshness.state == "late"]
    never = [e for e in endpoints if e.freshness.state == "never"]
    return late, never


def alert_message(late: list[Any], never: list[Any]) -> str | None:
    """The alert's text, one line per late endpoint; None when nothing is late."""
    if not late:
        return None
    lines = [f"{len(late)} endpoint(s) have not landed data within their schedule:"]
    for row in late:
        landed = (
            row.last_landed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            if row.last_landed_at
            else "never"
        )
        last = f"; last run {row.status}" + (f" ({row.message})" if row.message else "") if row.status else ""
        lines.append(
            f"- {row.spec.dag_id} ({row.spec.schedule}): last landed {landed}, {_hours(row.freshness.age)} ago, "
            f"expected every {_hours(row.freshness.expected_every)}{last}"
        )
    if never:
        lines.append("Scheduled but never landed: " + ", ".join(r.spec.dag_id for r in never))
    return "\n".join(lines)


def check_source_freshness(
    config_path: str | None = None, notifier: Any = None, now: datetime | None = None, conn: Any = None
) -> dict[str, Any]:
    """The task: read freshness, send one alert when any endpoint is late. Returns what it found."""
    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    loaded = load_config_cached(config_path)
    if loaded.config is None:  # a broken endpoint drops only its own DAG; a broken file stops here
        loaded.raise_for_problems()
    config = loaded.config
    assert config is not None  # raise_for_problems raised otherwise
    own_conn = conn is None
    if own_conn:
        from game_market_pipeline.warehouse.connection import postgres_connection

        conn = postgres_connection(config.warehouse.connection_id)
    try:
        late, never = freshness_report(conn, loaded, now)
    finally:
        if own_conn:
            conn.close()
    message = alert_message(late, never)
    if message is not None:
        notifier = notifier or QualityAlertNotifier.from_settings(config.quality.alerts)
        notifier.with_message(message, subject=ALERT_SUBJECT).notify({})
    return {
        "late": [r.spec.dag_id for r in late],
        "never": [r.spec.dag_id for r in never],
        "alerted": bool(message),
    }


def _check_task(config_path: str | None = None, **_: Any) -> dict[str, Any]:
    return check_source_freshness(config_path)


def build_freshness_dag(loaded_config: Any = None, config_path: str | None = None) -> Any:
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG

    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.config.models import DagDefaults
    from game_market_pipeline.config.quality import AlertSettings
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    loaded = loaded_config or load_config_cached(config_path)
    defaults = loaded.config.dag_defaults if loaded.config else DagDefaults()
    alerts = loaded.config.quality.alerts if loaded.config else AlertSettings()
    with DAG(
        dag_id=FRESHNESS_DAG_ID,
        schedule="@daily",
        start_date=datetime.combine(defaults.start_date, datetime.min.time(), tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["monitoring", "freshness"],
        doc_md=__doc__,
        description="Daily: one alert listing the endpoints whose data is older than their schedule allows",
        default_args={
            "owner": defaults.owner,
            "retries": defaults.retries,
            "retry_delay": timedelta(seconds=defaults.retry_delay_seconds),
            "execution_timeout": EXECUTION_TIMEOUT,
            "on_failure_callback": [QualityAlertNotifier.from_settings(alerts)],
        },
    ) as dag:
        PythonOperator(
            task_id="alert_on_late_sources",
            python_callable=_check_task,
            op_kwargs={"config_path": config_path},
            doc_md="Read ops.ingest_runs as the Data health page does; one alert when any endpoint is late.",
        )
    return dag
