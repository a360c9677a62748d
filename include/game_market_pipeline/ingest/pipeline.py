"""The two steps of an ingestion run, independent of Airflow: `extract` (API -> S3) and `load`
(S3 -> Postgres). The operators call these; benchmarks and tests may call them directly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from game_market_pipeline.config.loader import LoadedConfig
from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.ingest import memory
from game_market_pipeline.ingest.bronze import BronzeStore, LandingLocation, location_from_uri
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.ingest.extract import ExtractResult, extract_endpoint
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.rate_limit import TokenBucket
from game_market_pipeline.ingest.staging import LoadResult, load_landing


def landing_location(
    config: LoadedConfig, endpoint: ResolvedEndpoint, ingest_date: date, bucket: str | None = None
) -> LandingLocation:
    assert config.config is not None
    lake = config.config.lake
    return LandingLocation(
        bucket or config.lake_bucket,
        lake.bronze_prefix,
        lake.quarantine_prefix,
        endpoint.source,
        endpoint.name,
        ingest_date,
    )


def make_client(endpoint: ResolvedEndpoint, settings: ApiSettings, **kwargs: Any) -> ApiClient:
    return ApiClient(
        settings.base_url,
        endpoint.auth,
        settings.secret,
        TokenBucket(settings.requests_per_second, settings.burst),
        timeout_seconds=settings.timeout_seconds,
        source=endpoint.source,
        **kwargs,
    )


def extract(
    config: LoadedConfig,
    endpoint: ResolvedEndpoint,
    settings: ApiSettings,
    s3: Any,
    run_id: str,
    ingest_date: date,
    bucket: str | None = None,
    warehouse: Any = None,
    gate: Any = None,
    **kwargs: Any,
) -> ExtractResult:
    """`warehouse`: a callable returning a new Postgres connection, needed by endpoints with
    `details_of` (their work list comes from staging); `gate`: the call budget (budget.CallGate)."""
    client = make_client(endpoint, settings)
    try:
        store = BronzeStore(s3, landing_location(config, endpoint, ingest_date, bucket))
        if endpoint.details_of is not None:
            return _extract_details(config, endpoint, client, store, run_id, ingest_date, warehouse, gate, **kwargs)
        return extract_endpoint(endpoint, client, store, run_id, ingest_date, **kwargs)
    finally:
        client.close()


def _extract_details(
    config: LoadedConfig,
    endpoint: ResolvedEndpoint,
    client: ApiClient,
    store: BronzeStore,
    run_id: str,
    ingest_date: date,
    warehouse: Any,
    gate: Any,
    **kwargs: Any,
) -> ExtractResult:
    from game_market_pipeline.ingest.details import extract_details, plan_details

    if warehouse is None:
        raise ValueError(f"{endpoint.dag_id}: an endpoint with details_of needs the warehouse (its work list is in staging)")
    assert config.config is not None
    schemas = config.config.warehouse

    def plan() -> Any:
        conn = warehouse()
        try:
            return plan_details(conn, endpoint, schemas.raw_schema, schemas.ops_schema)
        finally:
            conn.close()

    return extract_details(endpoint, client, store, run_id, ingest_date, plan, gate, **kwargs)


def load(
    config: LoadedConfig,
    endpoint: ResolvedEndpoint,
    pg_conn: Any,
    s3: Any,
    manifest_uri: str,
    run_id: str,
    api_calls: int,
    started_at: datetime | None = None,
) -> LoadResult:
    import json

    assert config.config is not None
    # The load's large blocks (S3 chunks, CSV, COPY buffers) go back to the OS when freed (memory.py).
    memory.map_large_blocks()
    bucket, key = location_from_uri(manifest_uri)
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    ingest_date = date.fromisoformat(manifest["ingest_date"])
    store = BronzeStore(s3, landing_location(config, endpoint, ingest_date, bucket))
    warehouse = config.config.warehouse
    return load_landing(
        pg_conn,
        store,
        endpoint,
        manifest,
        manifest_uri,
        run_id,
        warehouse.raw_schema,
        warehouse.ops_schema,
        api_calls,
        started_at or datetime.now(UTC),
    )
