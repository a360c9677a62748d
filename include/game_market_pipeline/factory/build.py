"""Build one ingestion DAG per configured endpoint — purely: config in, `{dag_id: DAG}` out.

No connection, Variable or HTTP call happens here; operators resolve those when they run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import DAG

from game_market_pipeline.assets import source_asset, staging_asset, staging_asset_name
from game_market_pipeline.config.loader import LoadedConfig
from game_market_pipeline.config.models import DagDefaults, ResolvedEndpoint
from game_market_pipeline.config.quality import AlertSettings
from game_market_pipeline.operators import ExtractToBronzeOperator, LoadToStagingOperator
from game_market_pipeline.quality.notifier import QualityAlertNotifier

INGESTION_ALERT_SUBJECT = "[game-market-pipeline] ingestion failed"


def _doc_md(endpoint: ResolvedEndpoint) -> str:
    fan_out = (
        f"\n- **fan-out**: each listed record -> `{endpoint.fan_out.path}` "
        f"({endpoint.fan_out.concurrency} at a time)"
        if endpoint.fan_out
        else ""
    )
    incremental = (
        f"\n- **incremental**: `{endpoint.incremental.param}` on `{endpoint.incremental.cursor_field}`"
        if endpoint.incremental
        else ""
    )
    return f"""### {endpoint.source} · {endpoint.name}

{endpoint.description or ""}

- **request**: `GET {endpoint.base_url}{endpoint.path}` (connection `{endpoint.connection_id}`)
- **paginator**: `{endpoint.paginator.kind}`; records at `{endpoint.record_selector}`; primary key `{endpoint.primary_key}`
- **model**: `{endpoint.record_model}`; quarantine threshold {endpoint.quarantine_threshold:.0%}
- **rate limit**: {endpoint.rate_limit.requests_per_second}/s (burst {endpoint.rate_limit.burst}); pool `{endpoint.pool}`{fan_out}{incremental}
- **guards**: at most {endpoint.max_pages} pages and {endpoint.max_api_calls} API calls per date; each task times out after {endpoint.execution_timeout_seconds} s
- **lands in**: S3 `bronze/source={endpoint.source}/endpoint={endpoint.name}/ingest_date=<date>/`, then `raw.{endpoint.table_name}`
- **emits**: Assets `raw/{endpoint.table_name}` and `raw/_{endpoint.source}` (which schedules the transform)

Generated from `include/config/endpoints.yaml` — edit that file, not this DAG.
"""


def build_endpoint_dag(
    endpoint: ResolvedEndpoint,
    defaults: DagDefaults,
    config_path: str | None = None,
    alerts: AlertSettings | None = None,
    *,
    raw_schema: str,
) -> DAG:
    """`raw_schema`: the schema the load's Asset outlets and doc name (the config's warehouse.raw_schema,
    which the load writes to)."""
    default_args = {
        # A task that fails for good (retries spent) sends one alert naming the DAG, the task and the error.
        "on_failure_callback": [
            QualityAlertNotifier.from_settings(alerts or AlertSettings(), subject=INGESTION_ALERT_SUBJECT)
        ],
        "owner": defaults.owner,
        "retries": defaults.retries,
        "retry_delay": timedelta(seconds=defaults.retry_delay_seconds),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(seconds=defaults.max_retry_delay_seconds),
        # Every task of the DAG: a walk that runs away (or a load that hangs) fails here instead of
        # holding its pool slot forever; landed parts stay and the retry resumes after them.
        "execution_timeout": timedelta(seconds=endpoint.execution_timeout_seconds),
    }
    with DAG(
        dag_id=endpoint.dag_id,
        schedule=endpoint.schedule,
        start_date=datetime.combine(defaults.start_date, datetime.min.time(), tzinfo=UTC),
        catchup=False,
        max_active_runs=defaults.max_active_runs,
        default_args=default_args,
        tags=["ingestion", f"source:{endpoint.source}", *endpoint.tags],
        doc_md=_doc_md(endpoint),
        description=f"{endpoint.source}.{endpoint.name}: API -> S3 bronze -> raw.{endpoint.table_name}",
    ) as dag:
        extract = ExtractToBronzeOperator(
            task_id="extract_to_bronze",
            source=endpoint.source,
            endpoint=endpoint.name,
            config_path=config_path,
            pool=endpoint.pool,
            doc_md="API -> validated Parquet parts + manifest in S3 (idempotent per logical date, resumable).",
        )
        load = LoadToStagingOperator(
            task_id="load_to_staging",
            source=endpoint.source,
            endpoint=endpoint.name,
            extract_task_id=extract.task_id,
            config_path=config_path,
            # The table's own Asset (lineage) and its source's Asset, which schedules the transform DAG.
            outlets=[staging_asset(endpoint, raw_schema), source_asset(endpoint.source, raw_schema)],
            doc_md=f"S3 landing -> {staging_asset_name(endpoint.table_name, raw_schema)} (COPY, one transaction, "
            "unchanged records skipped).",
        )
        extract >> load
    return dag


def build_dags(config: LoadedConfig, only_dag_id: str | None = None) -> dict[str, DAG]:
    """All endpoint DAGs, or just `only_dag_id` (a task process needs only its own DAG)."""
    if config.config is None:
        return {}
    defaults = config.config.dag_defaults
    path = str(config.path)
    alerts = config.config.quality.alerts
    return {
        endpoint.dag_id: build_endpoint_dag(
            endpoint, defaults, path, alerts, raw_schema=config.config.warehouse.raw_schema
        )
        for endpoint in config.endpoints
        if only_dag_id is None or endpoint.dag_id == only_dag_id
    }
