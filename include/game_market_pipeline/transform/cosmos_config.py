"""Build the transform DAG: the dbt project rendered by Cosmos, scheduled on the per-source staging Assets.

One small config object per question Cosmos asks (what to render, which project, how to connect,
how to run), each built by a function here so tests and the gate/promotion code can reuse them.

- Render: `LoadMode.DBT_MANIFEST` from the committed dbt/target/manifest.json — parsing the DAG
  never runs dbt (`make dbt-manifest` rebuilds the manifest; a test fails when it is stale).
  WATCHER: `TestBehavior.NONE` (a model's task carries its tests). LOCAL: `TestBehavior.AFTER_EACH`,
  each model with tests a task group `run >> test`, multi-parent tests detached; test tasks are never
  retried (dbt_project.yml: `meta.cosmos.operator_kwargs.retries: 0`).
- Project: dbt/ next to dags/ (paths from `__file__`), no dbt packages (`install_deps` off).
- Profile: `PostgresUserPasswordProfileMapping` on the `warehouse_db` connection, schema = the
  target schema ($GMP_DBT_SCHEMA, else the config's warehouse.audit_schema). Cosmos writes
  the password into the dbt process's environment (`COSMOS_CONN_POSTGRES_PASSWORD`), never into profiles.yml.
- Execution: `ExecutionMode.WATCHER` (default, $GMP_DBT_EXECUTION_MODE=watcher): one `dbt build` per
  DAG run in the producer task, one task per model/seed that starts and ends in the triggerer; the
  wiring around Cosmos is in transform.watcher, the reasons and figures in docs/TRANSFORM.md.
  `local` is the previous design, kept as a fallback: `ExecutionMode.LOCAL` + `TestBehavior.AFTER_EACH`
  with `InvocationMode.DBT_RUNNER`, one dbt invocation per model and per test group (143 dbt tasks).

Schedule: the OR of the per-source Assets (`raw/_rawg | raw/_tcgdex | ...`, assets.source_asset),
which every load task of the source emits next to its own table's Asset: any endpoint's fresh data
triggers a build. AND would hold a daily endpoint's data back until the weekly endpoints have all
landed too (up to a week); with `max_active_runs=1` Airflow folds the updates that arrive during a
build into the next run, so a burst of ingestion runs costs one or two builds, not one per endpoint.
Not the OR of the per-table Assets: that expression grows with the endpoint count, and Airflow
hashes the DAG's schedule on every `>>` Cosmos draws (DAG.__hash__ -> Asset.__hash__, which is
attrs.asdict + json.dumps): 500 endpoints x ~143 dbt tasks cost ~225k Asset hashes, 5-9 s of every
DagBag fill. One Asset per source keeps the expression small whatever the endpoint count, with the
same trigger semantics; the per-table Assets stay as outlets for lineage.

`build_transform_dag()` returns the DAG *and* the dbt task group, so the write-audit-publish code
can put `prepare >> dbt_group >> checks >> gate >> promote` around it (promotion.tasks).
"""

from __future__ import annotations

import json
import operator
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from game_market_pipeline.transform.sources import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from airflow.sdk import DAG
    from cosmos import DbtTaskGroup

    from game_market_pipeline.config.loader import LoadedConfig

TRANSFORM_DAG_ID = "transform_warehouse"
DBT_TASK_GROUP_ID = "dbt"
PROFILE_NAME = "game_market"
TARGET_NAME = "airflow"
DEFAULT_CONN_ID = "warehouse_db"
THREADS_ENV = "GMP_DBT_THREADS"  # the same variable dbt/profiles.yml reads for command-line builds
DEFAULT_THREADS = 4
EXECUTION_MODE_ENV = "GMP_DBT_EXECUTION_MODE"
# JSON {"requests": {...}, "limits": {...}}: the resources of the pod that runs the one `dbt build`
# under the KubernetesExecutor (a pod_override of the producer task only; every other task keeps the
# worker pod template). Unset: the producer gets the template's resources like any task.
PRODUCER_RESOURCES_ENV = "GMP_DBT_PRODUCER_RESOURCES"
WATCHER_MODE = "watcher"
LOCAL_MODE = "local"


class TransformDag(NamedTuple):
    """`dag, dbt_group = build_transform_dag(...)`"""

    dag: DAG
    dbt_group: DbtTaskGroup


def target_schema(schema: str | None = None, loaded: LoadedConfig | None = None) -> str:
    """The schema one build writes everything into (the audit schema of write-audit-publish).

    The argument, else $GMP_DBT_SCHEMA, else the config's `warehouse.audit_schema` (the loaded
    config given, else the cached one; its model's default when the config does not load).
    """
    if schema:
        return schema
    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.warehouse.schemas import audit_schema

    loaded = loaded or load_config_cached()
    return audit_schema(loaded.config.warehouse if loaded.config else None)


def venv_dbt_executable() -> Path:
    """The dbt of this interpreter's environment (never whatever `dbt` comes first on PATH)."""
    return Path(sys.executable).parent / "dbt"


def manifest_path(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    return project_dir / "target" / "manifest.json"


def _warehouse_profile_mapping_class() -> type:
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
        """PostgresUserPasswordProfileMapping that also accepts a connection without a password.

        The local stack's PostgreSQL uses trust authentication, so `warehouse_db` has no password
        there; Cosmos would refuse it ("Could not find a value for secret field password"). The
        password still only ever travels as the COSMOS_CONN_POSTGRES_PASSWORD environment variable.
        """

        @property
        def env_vars(self) -> dict[str, str]:
            if self.get_dbt_value("password") is None:
                return {self.get_env_var_name("password"): ""}
            return super().env_vars

    return WarehouseProfileMapping


def dbt_threads(threads: int | None = None) -> int:
    """dbt's threads: the argument, else $GMP_DBT_THREADS, else 4 (the watcher's one build uses them all)."""
    value = threads if threads is not None else os.environ.get(THREADS_ENV) or DEFAULT_THREADS
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"{THREADS_ENV}={value!r}: dbt threads must be a whole number >= 1") from None
    if count < 1:
        raise ValueError(f"{THREADS_ENV}={value!r}: dbt threads must be a whole number >= 1")
    return count


def execution_mode_name(mode: str | None = None) -> str:
    """`watcher` (default: one dbt build per run) or `local` (one dbt invocation per task), from $GMP_DBT_EXECUTION_MODE."""
    name = (mode or os.environ.get(EXECUTION_MODE_ENV) or WATCHER_MODE).strip().lower()
    if name not in (WATCHER_MODE, LOCAL_MODE):
        raise ValueError(f"{EXECUTION_MODE_ENV}={name!r}: expected {WATCHER_MODE!r} or {LOCAL_MODE!r}")
    return name


def profile_config(
    schema: str | None = None, conn_id: str = DEFAULT_CONN_ID, threads: int | None = None
) -> Any:
    from cosmos import ProfileConfig

    mapping_class = _warehouse_profile_mapping_class()
    return ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profile_mapping=mapping_class(
            conn_id=conn_id,
            profile_args={
                "schema": target_schema(schema),
                "threads": dbt_threads(threads),
                "connect_timeout": 10,
            },
        ),
    )


def project_config(project_dir: Path = DBT_PROJECT_DIR, manifest: Path | None = None) -> Any:
    from cosmos import ProjectConfig

    return ProjectConfig(
        dbt_project_path=project_dir,
        manifest_path=manifest or manifest_path(project_dir),
        project_name=PROFILE_NAME,
        install_dbt_deps=False,  # no dbt packages: nothing to install, no hub to reach
    )


def render_config(mode: str | None = None) -> Any:
    from cosmos import LoadMode, RenderConfig, TestBehavior
    from cosmos.constants import SourceRenderingBehavior

    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        # watcher: a model's task carries its tests' verdict (transform.watcher), no test tasks
        test_behavior=TestBehavior.NONE
        if execution_mode_name(mode) == WATCHER_MODE
        else TestBehavior.AFTER_EACH,
        should_detach_multiple_parents_tests=True,
        source_rendering_behavior=SourceRenderingBehavior.NONE,
        # Models are built into the audit schema, which no consumer reads: the Asset consumers
        # care about is production_asset(), emitted by the promotion after the gate.
        emit_datasets=False,
    )


def execution_config(mode: str | None = None) -> Any:
    from cosmos import ExecutionConfig, ExecutionMode, InvocationMode

    if execution_mode_name(mode) == LOCAL_MODE:
        return ExecutionConfig(
            execution_mode=ExecutionMode.LOCAL,
            invocation_mode=InvocationMode.DBT_RUNNER,
            dbt_executable_path=str(venv_dbt_executable()),
        )
    return ExecutionConfig(
        execution_mode=ExecutionMode.WATCHER,
        invocation_mode=InvocationMode.DBT_RUNNER,
        dbt_executable_path=str(venv_dbt_executable()),
        # The producer is never retried: Cosmos would only skip the retry (it never runs a second
        # `dbt build`); what failed is re-run by the failed model's own task (watcher.py).
        setup_operator_args={"retries": 0, **producer_pod_override()},
    )


def producer_pod_override(resources: str | None = None) -> dict[str, Any]:
    """`executor_config` giving the producer's pod the resources of $GMP_DBT_PRODUCER_RESOURCES (else {})."""
    raw = resources if resources is not None else os.environ.get(PRODUCER_RESOURCES_ENV, "")
    if not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
        if not isinstance(parsed, dict) or not set(parsed) <= {"requests", "limits"}:
            raise ValueError("expected an object with keys 'requests' and/or 'limits'")
    except ValueError as err:
        raise ValueError(f"{PRODUCER_RESOURCES_ENV}: {err} (got {raw[:200]!r})") from None
    try:
        from kubernetes.client import models as k8s
    except ImportError as err:
        raise ValueError(
            f"{PRODUCER_RESOURCES_ENV} is set but the kubernetes client is not installed "
            "(apache-airflow-providers-cncf-kubernetes)"
        ) from err
    container = k8s.V1Container(name="base", resources=k8s.V1ResourceRequirements(**parsed))
    return {"executor_config": {"pod_override": k8s.V1Pod(spec=k8s.V1PodSpec(containers=[container]))}}


def schedule_sources(loaded: LoadedConfig) -> list[str]:
    """The sources with at least one valid endpoint, in config order: the transform DAG's triggers."""
    return list(dict.fromkeys(endpoint.source for endpoint in loaded.endpoints))


def schedule_assets(loaded: LoadedConfig) -> list[Any]:
    from game_market_pipeline.assets import source_asset

    # The raw schema of the same config the ingest DAGs' outlets name, so both sides share each URI.
    raw_schema = loaded.config.warehouse.raw_schema if loaded.config else None
    return [source_asset(source, raw_schema) for source in schedule_sources(loaded)]


def transform_schedule(loaded: LoadedConfig) -> Any:
    """Any staging update triggers a build: the OR (`|`) of the per-source Assets.

    One Asset per source, never one per endpoint: the size of this expression is paid on every
    DAG hash while the DAG is built (see the module docstring).
    """
    assets = schedule_assets(loaded)
    if not assets:
        return None
    return reduce(operator.or_, assets)


def _doc_md(schema: str, mode: str = WATCHER_MODE) -> str:
    how = (
        """- **dbt runs once**: `dbt.dbt_producer_watcher` builds every seed, model and test (Cosmos WATCHER mode);
  each `dbt.<model>_run` / `dbt.<seed>_seed` task shows that node's result *and its tests'* (a failed
  test fails the model's task, without retry); details in docs/TRANSFORM.md"""
        if mode == WATCHER_MODE
        else """- **tests**: after each model (`<model>.test`), relationships tests detached; test tasks are not retried"""
    )
    return f"""### Transform: raw staging -> silver -> gold (dbt, rendered by Cosmos)

- **trigger**: any source Asset `postgres://warehouse:5432/warehouse/raw/_<source>` (OR of all; every load task
  of the source emits it next to its table's Asset `raw/<source>__<endpoint>`)
- **builds into**: schema `{schema}` (one build = one schema; the write-audit-publish tasks promote it)
- **layers**: `stg_*` typed latest versions, `int_*` conformed, `dim_*`/`fact_*`/`bridge_*` star
  schemas, `mart_*` analytics (see the README, Warehouse)
{how}

Rendered from `dbt/target/manifest.json`: after changing dbt/, run `make dbt-manifest`.
"""


def build_transform_dag(
    dag_id: str = TRANSFORM_DAG_ID,
    *,
    schema: str | None = None,
    loaded_config: LoadedConfig | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    manifest: Path | None = None,
    conn_id: str | None = None,
    schedule: Any = "staging_assets",
    operator_args: Mapping[str, Any] | None = None,
    dag_kwargs: Mapping[str, Any] | None = None,
    execution_mode: str | None = None,
) -> TransformDag:
    """The transform DAG and its dbt task group (group id `dbt`). Pure: opens nothing, runs no dbt.

    `operator_args` are merged into Cosmos' operator_args (e.g. the quality code's run-results
    `callback`); `schedule` defaults to the OR of the per-source staging Assets (transform_schedule).
    """
    from airflow.sdk import DAG
    from cosmos import DbtTaskGroup

    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.config.models import WarehouseConfig
    from game_market_pipeline.warehouse.schemas import audit_schema

    loaded = loaded_config or load_config_cached()
    defaults = loaded.config.dag_defaults if loaded.config else None
    warehouse = loaded.config.warehouse if loaded.config else WarehouseConfig()
    warehouse_conn = conn_id or warehouse.connection_id
    build_schema = schema or audit_schema(warehouse)
    mode = execution_mode_name(execution_mode)
    # The run_results callback (if any, e.g. quality.dbt_results.store_run_results_callback) writes to the
    # config's ops schema (ops.dbt_run_results, ops.quality_results) through the build's connection;
    # explicit callback_args win.
    callback_args = {
        "ops_schema": warehouse.ops_schema,
        "conn_id": warehouse_conn,
        **dict((operator_args or {}).get("callback_args") or {}),
    }
    start = defaults.start_date if defaults else datetime(2026, 1, 1).date()
    default_args: dict[str, Any] = {
        "owner": defaults.owner if defaults else "data-platform",
        "retries": defaults.retries if defaults else 2,
        "retry_delay": timedelta(seconds=defaults.retry_delay_seconds if defaults else 60),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=defaults.max_retry_delay_seconds if defaults else 1800),
    }
    with DAG(
        dag_id=dag_id,
        schedule=transform_schedule(loaded) if schedule == "staging_assets" else schedule,
        start_date=datetime.combine(start, datetime.min.time(), tzinfo=UTC),
        catchup=False,
        max_active_runs=1,  # builds of one schema never overlap
        default_args=default_args,
        tags=["transform", "dbt", "warehouse"],
        doc_md=_doc_md(build_schema, mode),
        description=f"dbt (Cosmos): raw staging -> silver -> gold, built into schema {build_schema}",
        **dict(dag_kwargs or {}),
    ) as dag:
        dbt_group = DbtTaskGroup(
            group_id=DBT_TASK_GROUP_ID,
            project_config=project_config(project_dir, manifest),
            profile_config=profile_config(build_schema, warehouse_conn),
            execution_config=execution_config(mode),
            render_config=render_config(mode),
            operator_args={
                "install_deps": False,
                **dict(operator_args or {}),
                "callback_args": callback_args,
            },
        )
    if mode == WATCHER_MODE:
        from game_market_pipeline.transform.watcher import wire_watcher_group

        wire_watcher_group(dbt_group)
    return TransformDag(dag, dbt_group)
