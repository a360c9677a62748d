"""Wire write-audit-publish into the transform DAG: prepare → (dbt) → checks → gate → promote.

```python
dag, dbt_group = build_transform_dag(..., operator_args=PUBLISH_OPERATOR_ARGS)
add_publish_tasks(dag, dbt_group, "{{ run_id }}")
```

- `prepare_audit_schema` (upstream of the dbt group): recycles the previous build into the audit schema (its
  incremental tables catch up from the raw history), or starts a fresh one; stamps the build id.
- `quality_checks` (trigger rule ALL_DONE, so a failed dbt task is recorded too, not skipped): evaluates the
  configured checks on the audit schema, dbt's run results and the dbt tasks' states → ops.quality_results.
- `quality_gate`: `QualityGateSensor`, reschedule mode; fails (no retry) when an `error` check failed.
- `promote_to_production`: the atomic swap; its outlet is `production_asset()`.
Checks, gate and promotion alert through the configured notifier when they fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from game_market_pipeline.exceptions import ConfigError

if TYPE_CHECKING:  # the DAG-building imports stay inside the functions (parse time)
    from game_market_pipeline.config.models import WarehouseConfig
    from game_market_pipeline.config.quality import QualityConfig
    from game_market_pipeline.quality.checks import QualityPlan
    from game_market_pipeline.quality.gate import QualityGateSensor
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

# Cosmos operator_args for the dbt task group: every dbt invocation stores its run_results.json in
# ops.dbt_run_results (an import path, resolved by Cosmos at run time; the build id is the run id).
PUBLISH_OPERATOR_ARGS = {"callback": "game_market_pipeline.quality.dbt_results.store_run_results_callback"}


def default_audit_schema(warehouse: WarehouseConfig | None) -> str:
    """$GMP_DBT_SCHEMA (a build of its own, e.g. a benchmark), else the config's warehouse.audit_schema."""
    from game_market_pipeline.warehouse.schemas import audit_schema

    return audit_schema(warehouse)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def _loaded(config_path: str | None) -> Any:
    from game_market_pipeline.config.loader import load_config, load_config_cached

    loaded = load_config(config_path) if config_path else load_config_cached()
    if loaded.config is None:
        raise ConfigError(loaded.problems)
    return loaded


def _connect(conn_id: str) -> Any:
    # psycopg2, whatever driver PostgresHook would pick (the swap is built with psycopg2.sql / errors).
    from game_market_pipeline.warehouse.connection import postgres_connection

    return postgres_connection(conn_id)


def _schemas(audit_schema: str, config_path: str | None) -> Any:
    from game_market_pipeline.promotion.swap import WapSchemas

    promotion = _loaded(config_path).config.quality.promotion
    return WapSchemas(audit_schema, promotion.production_schema, promotion.previous_schema)


# --- task callables (importable, so workers find them; arguments are rendered templates) --------------------


def prepare_audit_schema(
    build_id: str,
    audit_schema: str,
    conn_id: str,
    ops_schema: str,
    full_refresh: Any = False,
    config_path: str | None = None,
) -> dict[str, Any]:
    from game_market_pipeline.promotion.swap import prepare_audit

    schemas = _schemas(audit_schema, config_path)  # first: a config that does not load stops the run here
    conn = _connect(conn_id)
    try:
        outcome = prepare_audit(
            conn,
            build_id,
            schemas,
            ops_schema=ops_schema,
            full_refresh=_truthy(full_refresh),
        )
    finally:
        conn.close()
    return {"build_id": outcome.build_id, "base": outcome.base, "base_build_id": outcome.base_build_id}


def run_quality_checks_task(
    build_id: str,
    audit_schema: str,
    conn_id: str,
    ops_schema: str,
    dbt_task_group_id: str | None = None,
    dbt_task_ids: list[str] | None = None,
    dbt_target_path: str | None = None,
    config_path: str | None = None,
    **context: Any,
) -> dict[str, Any]:
    from game_market_pipeline.quality.checks import EvaluationContext, plan_from_loaded
    from game_market_pipeline.quality.runner import run_quality_checks

    loaded = _loaded(config_path)
    plan = plan_from_loaded(loaded)
    if plan.problems:
        raise ConfigError(plan.problems)
    ti = context["ti"]
    states = (
        ti.get_task_states(
            dag_id=ti.dag_id, task_group_id=dbt_task_group_id, task_ids=dbt_task_ids, run_ids=[ti.run_id]
        )
        if (dbt_task_group_id or dbt_task_ids)
        else {}
    )
    task_states = dict(states.get(ti.run_id, {}))
    ctx = EvaluationContext(
        build_schema=audit_schema,
        production_schema=loaded.config.quality.promotion.production_schema,
        raw_schema=loaded.config.warehouse.raw_schema,
        ops_schema=ops_schema,
    )
    conn = _connect(conn_id)
    try:
        results = run_quality_checks(
            conn, build_id, plan, ctx, dbt_task_states=task_states, dbt_target_path=dbt_target_path or None
        )
    finally:
        conn.close()
    failed = [r.check_id for r in results if not r.passed]
    return {"build_id": build_id, "checks": len(results), "failed": failed[:100]}


def promote_task(
    build_id: str,
    audit_schema: str,
    conn_id: str,
    ops_schema: str,
    config_path: str | None = None,
    gate_task_id: str = "quality_gate",
    **context: Any,
) -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from game_market_pipeline.assets import production_asset
    from game_market_pipeline.promotion.swap import PromotionError, PromotionLockTimeout, promote

    settings = _loaded(config_path).config.quality.promotion
    summary = context["ti"].xcom_pull(task_ids=gate_task_id) or {}
    conn = _connect(conn_id)
    try:
        outcome = promote(
            conn,
            build_id,
            _schemas(audit_schema, config_path),
            checks_summary=summary,
            ops_schema=ops_schema,
            lock_timeout_ms=settings.lock_timeout_ms,
            max_attempts=settings.max_attempts,
            grant_select_to=settings.grant_select_to,
            requested_by=context.get("run_id"),
        )
    except PromotionLockTimeout:
        raise  # busy readers: the task's retries try again later
    except PromotionError as err:
        raise AirflowFailException(str(err)) from err  # wrong build / nothing to promote: retrying won't help
    finally:
        conn.close()
    # Downstream DAGs scheduled on the production asset learn which build they now read.
    context["outlet_events"][production_asset(settings.production_schema)].extra = {
        "build_id": outcome.build_id,
        "status": outcome.status,
        "previous_build_id": outcome.previous_build_id,
    }
    return {
        "status": outcome.status,
        "build_id": outcome.build_id,
        "previous_build_id": outcome.previous_build_id,
        "lock_attempts": outcome.attempts,
    }


# --- wiring ------------------------------------------------------------------------------------------


def config_gaps_md(loaded: Any, plan: Any = None) -> str:
    """Markdown naming what the config problems leave out of a DAG ('' when nothing is)."""
    if loaded.config is None:
        return (
            f"\n\n#### Config problems: the pipeline config did not load\n\n`{loaded.path}` has "
            f"{len(loaded.problems)} problem(s) (see the import error of `dags/config_problems.py`). "
            "This DAG is built on default settings and its runs fail until the config loads.\n"
        )
    lines = [f"- `ingest__{source}__{endpoint}` not loaded" for source, endpoint in loaded.left_out]
    lines += [f"- {warning}" for warning in (plan.skipped if plan is not None else ())]
    if not lines:
        return ""
    return (
        "\n\n#### Config problems: left out until fixed (see the import error of `dags/config_problems.py`)\n\n"
        + "\n".join(lines)
        + "\n"
    )


def mark_config_gaps(dag: Any, loaded: Any, plan: Any = None) -> None:
    """Append what the config problems leave out to the DAG's doc_md (shown on its page in the UI)."""
    gaps = config_gaps_md(loaded, plan)
    if gaps:
        dag.doc_md = (dag.doc_md or "") + gaps


@dataclass(frozen=True)
class PublishTasks:
    prepare: Any | None
    checks: Any
    gate: Any
    promote: Any


def add_publish_tasks(
    dag: Any,
    upstream_task_group: Any,
    build_id_template: str = "{{ run_id }}",
    *,
    audit_schema: str | None = None,
    conn_id: str | None = None,
    loaded_config: Any = None,
    config_path: str | None = None,
    dbt_target_path: str | None = None,
    full_refresh: str | bool = False,
    add_prepare: bool = True,
) -> PublishTasks:
    """Append prepare/checks/gate/promote around `upstream_task_group` (a TaskGroup or a single task).

    `build_id_template` and `dbt_target_path` / `full_refresh` are Jinja templates rendered per run
    (e.g. "{{ run_id }}", "/tmp/dbt/{{ run_id }}", "{{ params.full_refresh }}"). `audit_schema` is the
    schema dbt builds into (default: env GMP_DBT_SCHEMA, else the config's warehouse.audit_schema).
    Raises `ConfigError` at parse time when the quality config names unknown staging tables.
    """
    from airflow.providers.standard.operators.python import PythonOperator
    from airflow.sdk import TaskGroup, TriggerRule

    from game_market_pipeline.assets import production_asset
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    quality, warehouse, plan = _publish_settings(dag, loaded_config, config_path)
    conn, ops = conn_id or warehouse.connection_id, warehouse.ops_schema
    notifier = QualityAlertNotifier.from_settings(quality.alerts)
    audit = audit_schema or default_audit_schema(warehouse)
    common: dict[str, Any] = {
        "build_id": build_id_template,
        "audit_schema": audit,
        "conn_id": conn,
        "ops_schema": ops,
        "config_path": config_path,
    }

    # The checks read the dbt task states of a whole group, or of the one task given instead.
    is_group = isinstance(upstream_task_group, TaskGroup)
    group_id = upstream_task_group.group_id if is_group else None
    task_ids = None if is_group else [upstream_task_group.task_id]
    prepare = None
    if add_prepare:
        prepare = PythonOperator(
            task_id="prepare_audit_schema",
            python_callable=prepare_audit_schema,
            dag=dag,
            op_kwargs={**common, "full_refresh": full_refresh},
            doc_md="Recycle the previous build into the audit schema (or start fresh); stamp the build id.",
        )
        prepare >> upstream_task_group
    checks = PythonOperator(
        task_id="quality_checks",
        python_callable=run_quality_checks_task,
        dag=dag,
        trigger_rule=TriggerRule.ALL_DONE,
        on_failure_callback=[notifier],
        op_kwargs={
            **common,
            "dbt_task_group_id": group_id,
            "dbt_task_ids": task_ids,
            "dbt_target_path": dbt_target_path,
        },
        doc_md="Evaluate the configured checks, dbt's results and dbt task states → ops.quality_results.",
    )
    gate = _quality_gate(dag, build_id_template, plan, quality, conn, ops, notifier)
    promote = PythonOperator(
        task_id="promote_to_production",
        python_callable=promote_task,
        dag=dag,
        op_kwargs={**common, "gate_task_id": gate.task_id},
        outlets=[production_asset(quality.promotion.production_schema)],
        on_failure_callback=[notifier],
        execution_timeout=timedelta(minutes=30),
        doc_md="Swap the audit schema into production in one transaction; emits the production asset.",
    )
    upstream_task_group >> checks >> gate >> promote
    return PublishTasks(prepare, checks, gate, promote)


def _publish_settings(
    dag: Any, loaded_config: Any, config_path: str | None
) -> tuple[QualityConfig, WarehouseConfig, QualityPlan]:
    """The quality and warehouse settings and the check plan; the DAG is marked where the config has gaps."""
    from game_market_pipeline.config.loader import load_config, load_config_cached
    from game_market_pipeline.config.models import WarehouseConfig
    from game_market_pipeline.config.quality import QualityConfig
    from game_market_pipeline.quality.checks import QualityPlan, plan_from_loaded

    loaded = loaded_config or (load_config(config_path) if config_path else load_config_cached())
    if loaded.config is None:
        # The config did not load (reported by dags/config_problems.py): the DAG still loads on the
        # default settings, marked, and its runs fail at `prepare_audit_schema`, which reads the config.
        quality, warehouse, plan = QualityConfig(), WarehouseConfig(), QualityPlan(())
    else:
        plan = plan_from_loaded(loaded)
        if plan.problems:
            raise ConfigError(plan.problems)
        quality, warehouse = loaded.config.quality, loaded.config.warehouse
    mark_config_gaps(dag, loaded, plan)
    return quality, warehouse, plan


def _quality_gate(
    dag: Any,
    build_id_template: str,
    plan: QualityPlan,
    quality: QualityConfig,
    conn_id: str,
    ops_schema: str,
    notifier: QualityAlertNotifier,
) -> QualityGateSensor:
    from game_market_pipeline.quality.gate import QualityGateSensor

    return QualityGateSensor(
        task_id="quality_gate",
        dag=dag,
        build_id=build_id_template,
        expected_check_ids=plan.expected_check_ids,
        conn_id=conn_id,
        ops_schema=ops_schema,
        warning_notifier=notifier,
        mode="reschedule",
        poke_interval=quality.gate.poke_interval_seconds,
        timeout=quality.gate.timeout_seconds,
        on_failure_callback=[notifier],
        doc_md="Wait for every check of this build; fail (no retry) when an `error` check failed.",
    )
