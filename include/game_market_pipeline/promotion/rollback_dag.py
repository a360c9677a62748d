"""The manual rollback DAG: swap the previous build back into production, on explicit confirmation.

Built here, registered by the thin `dags/rollback_warehouse.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

ROLLBACK_DAG_ID = "rollback_warehouse"
CONFIRMATION = "ROLLBACK"

DOC_MD = f"""### Roll the warehouse back to the previous build

Swaps `analytics_previous` back into `analytics` (and the current build out to `analytics_previous`) in one
transaction, with the same locking as the promotion: readers see the current build or the previous one,
never a mix. The rollback is recorded in `ops.promotions` (action `rollback`), and the production asset is
emitted so downstream DAGs refresh.

Trigger with the config `{{"confirm": "{CONFIRMATION}"}}` (anything else fails without touching the
warehouse). Optional: `expected_build_id` — refuse unless the previous schema holds exactly that build (a
second, accidental run then fails instead of rolling forward again); `reason` — stored with the rollback.

Not available while a transform build is between its `prepare_audit_schema` and its promotion: that build
recycled the previous schema (see the README, "write–audit–publish"). The next build after a rollback
starts from a fresh schema, not from the rolled-back build.
"""


def rollback_task(
    confirm: str,
    expected_build_id: str,
    reason: str,
    conn_id: str,
    audit_schema: str,
    config_path: str | None = None,
    **context: Any,
) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from game_market_pipeline.assets import production_asset
    from game_market_pipeline.promotion.swap import PromotionError, PromotionLockTimeout, rollback
    from game_market_pipeline.promotion.tasks import _connect, _loaded, _schemas

    if (confirm or "").strip() != CONFIRMATION:
        raise AirflowFailException(
            f"rollback not confirmed: trigger with params confirm={CONFIRMATION!r} "
            f"(got {confirm!r}); the warehouse was not touched"
        )
    loaded = _loaded(config_path)
    settings = loaded.config.quality.promotion
    conn = _connect(conn_id)
    try:
        outcome = rollback(
            conn,
            _schemas(audit_schema, config_path),
            expected_build_id=expected_build_id or None,
            ops_schema=loaded.config.warehouse.ops_schema,
            lock_timeout_ms=settings.lock_timeout_ms,
            max_attempts=settings.max_attempts,
            grant_select_to=settings.grant_select_to,
            requested_by=context.get("run_id"),
            reason=reason or None,
        )
    except PromotionLockTimeout:
        raise
    except PromotionError as err:
        raise AirflowFailException(str(err)) from err
    finally:
        conn.close()
    context["outlet_events"][production_asset(settings.production_schema)].extra = {
        "build_id": outcome.build_id,
        "status": outcome.status,
        "previous_build_id": outcome.previous_build_id,
    }
    return {
        "status": outcome.status,
        "build_id": outcome.build_id,
        "previous_build_id": outcome.previous_build_id,
    }


def build_rollback_dag(
    loaded_config: Any = None, config_path: str | None = None, audit_schema: str | None = None
) -> Any:
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import DAG, Param

    from game_market_pipeline.assets import production_asset
    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.config.models import DagDefaults, WarehouseConfig
    from game_market_pipeline.config.quality import AlertSettings, PromotionSettings
    from game_market_pipeline.promotion.tasks import config_gaps_md, default_audit_schema
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    loaded = loaded_config or load_config_cached(config_path)
    # A config that did not load (reported by dags/config_problems.py) must not hide the rollback:
    # the DAG loads on the defaults, marked; its run reads the config and fails until it loads.
    defaults = loaded.config.dag_defaults if loaded.config else DagDefaults()
    warehouse = loaded.config.warehouse if loaded.config else WarehouseConfig()
    alerts = loaded.config.quality.alerts if loaded.config else AlertSettings()
    promotion = loaded.config.quality.promotion if loaded.config else PromotionSettings()
    production_schema = promotion.production_schema
    with DAG(
        dag_id=ROLLBACK_DAG_ID,
        schedule=None,
        start_date=datetime.combine(defaults.start_date, datetime.min.time(), tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["warehouse", "write-audit-publish", "manual"],
        doc_md=DOC_MD + (config_gaps_md(loaded) if loaded.config is None else ""),
        description="Manual: swap the previous warehouse build back into production",
        default_args={
            "owner": defaults.owner,
            "retries": defaults.retries,
            "retry_delay": timedelta(seconds=defaults.retry_delay_seconds),
        },
        params={
            "confirm": Param(
                "",
                type="string",
                title="Confirmation",
                description=f"Type {CONFIRMATION} to roll production back to the previous build.",
            ),
            "expected_build_id": Param(
                "",
                type="string",
                title="Expected build id (optional)",
                description="Refuse unless analytics_previous holds this build.",
            ),
            "reason": Param(
                "",
                type="string",
                title="Reason (optional)",
                description="Stored with the rollback in ops.promotions.",
            ),
        },
    ) as dag:
        PythonOperator(
            task_id="rollback_to_previous",
            python_callable=rollback_task,
            op_kwargs={
                "confirm": "{{ params.confirm }}",
                "expected_build_id": "{{ params.expected_build_id }}",
                "reason": "{{ params.reason }}",
                "conn_id": warehouse.connection_id,
                "audit_schema": audit_schema or default_audit_schema(warehouse),
                "config_path": config_path,
            },
            outlets=[production_asset(production_schema)],
            on_failure_callback=[QualityAlertNotifier.from_settings(alerts)],
            doc_md="Swap analytics_previous back into analytics (one transaction) and record it.",
        )
    return dag
