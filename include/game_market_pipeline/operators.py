"""Ingestion operators: thin Airflow wrappers over `game_market_pipeline.ingest.pipeline`.

Everything heavy (requests, boto3, pyarrow, psycopg2) is imported inside `execute`, so building
DAGs stays cheap; connections are resolved only when a task runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from airflow.sdk import BaseOperator


def _ingest_date(context: Any) -> date:
    # The logical date names the landing folder: re-running a date hits the same folder (idempotent).
    logical = context.get("logical_date") or context.get("data_interval_end")
    if logical is None:  # manual runs without a logical date land under today's date
        return datetime.now(UTC).date()
    day: date = logical.date()
    return day


class ExtractToBronzeOperator(BaseOperator):
    """Pull one endpoint page by page, validate every record, land Parquet parts + manifest in S3."""

    ui_color = "#d6eaf8"

    def __init__(self, *, source: str, endpoint: str, config_path: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.source = source
        self.endpoint_name = endpoint
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from game_market_pipeline.config.loader import load_config_cached
        from game_market_pipeline.ingest.connections import api_settings, s3_client
        from game_market_pipeline.ingest.pipeline import extract
        from game_market_pipeline.warehouse.connection import postgres_connection

        config = load_config_cached(self.config_path)
        endpoint = config.endpoint(self.source, self.endpoint_name)
        assert config.config is not None
        warehouse_conn_id = config.config.warehouse.connection_id
        result = extract(
            config,
            endpoint,
            api_settings(endpoint),
            s3_client(config.config.lake.connection_id),
            run_id=context["run_id"],
            ingest_date=_ingest_date(context),
            # The lease of this endpoint and date, the API call counts and (for endpoints with
            # details_of) the detail work list live in the warehouse.
            warehouse=lambda: postgres_connection(warehouse_conn_id),
        )
        return result.to_xcom()


class LoadToStagingOperator(BaseOperator):
    """Stream a landing from S3 into `raw.<source>__<endpoint>` with COPY, in one transaction."""

    ui_color = "#d5f5e3"

    def __init__(
        self,
        *,
        source: str,
        endpoint: str,
        extract_task_id: str,
        config_path: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.source = source
        self.endpoint_name = endpoint
        self.extract_task_id = extract_task_id
        self.config_path = config_path

    def execute(self, context: Any) -> dict[str, Any]:
        from game_market_pipeline.config.loader import load_config_cached
        from game_market_pipeline.ingest.connections import s3_client
        from game_market_pipeline.ingest.pipeline import load
        from game_market_pipeline.warehouse.connection import postgres_connection

        config = load_config_cached(self.config_path)
        endpoint = config.endpoint(self.source, self.endpoint_name)
        assert config.config is not None
        extracted = context["ti"].xcom_pull(task_ids=self.extract_task_id)
        conn = postgres_connection(config.config.warehouse.connection_id)
        try:
            result = load(
                config,
                endpoint,
                conn,
                s3_client(config.config.lake.connection_id),
                extracted["manifest_uri"],
                context["run_id"],
                int(extracted["api_calls"]),
                started_at=context["ti"].start_date,
            )
        finally:
            conn.close()
        if result.status == "budget_exhausted":
            # Not a failure (the task succeeds and the next run resumes) but news: one alert.
            from game_market_pipeline.ingest.walk_budget import budget_alert

            try:
                budget_alert(config, endpoint, context, result.records).notify(context)
            except Exception as err:  # the load is committed: a channel that is down must not fail it
                # The type only: a channel's error may name its host or URL.
                self.log.warning("could not send the call-budget alert (%s)", type(err).__name__)
        return result.__dict__
