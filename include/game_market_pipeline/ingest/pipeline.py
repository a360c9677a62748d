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
from game_market_pipeline.ingest.landing_contract import Manifest
from game_market_pipeline.ingest.rate_limit import TokenBucket
from game_market_pipeline.ingest.staging import LoadResult, load_landing
from game_market_pipeline.warehouse.call_counter import DEFAULT_BLOCK, CallCounter, IngestScope
from game_market_pipeline.warehouse.connection import Connect
from game_market_pipeline.warehouse.leases import (
    DEFAULT_TTL_SECONDS,
    DEFAULT_WAIT_SECONDS,
    EndpointLease,
    lease_owner,
)
from game_market_pipeline.warehouse.migrate import ensure_migrated


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
    warehouse: Connect | None = None,
    lease_ttl_seconds: float = DEFAULT_TTL_SECONDS,
    lease_wait_seconds: float = DEFAULT_WAIT_SECONDS,
    gate: Any = None,
    **kwargs: Any,
) -> ExtractResult:
    """`warehouse`: opens a connection to the warehouse. With it (as in every task), the endpoint
    and date is leased for the walk (a second run waits, warehouse/leases.py) and every HTTP attempt
    is counted in ops.api_calls and ops.ingest_calls (warehouse/call_counter.py); endpoints with
    `details_of` need it for their work list. `gate`: the call budget (budget.CallGate); default the
    source's `budget:` shared through the warehouse, taken per page by list walks
    (ingest/walk_budget.py) and per call by details (ingest/details.py)."""
    if warehouse is None:
        if endpoint.details_of is not None:
            raise ValueError(
                f"{endpoint.dag_id}: an endpoint with details_of needs the warehouse (its work list is in staging)"
            )
        client = make_client(endpoint, settings)
        try:
            store = BronzeStore(s3, landing_location(config, endpoint, ingest_date, bucket))
            return extract_endpoint(endpoint, client, store, run_id, ingest_date, **kwargs)
        finally:
            client.close()

    assert config.config is not None
    ops_schema = config.config.warehouse.ops_schema
    conn = warehouse()
    try:
        ensure_migrated(conn, ops_schema, config.config.warehouse.raw_schema)
    finally:
        conn.close()
    scope = IngestScope(endpoint.source, endpoint.name, ingest_date)
    budget = gate if gate is not None else shared_budget(config, endpoint, warehouse)
    # Under a budget every call is written as it is made (no reserved blocks): the grants of every
    # pod read the same exact figure, so two pods never over-spend together.
    block = 1 if budget is not None else DEFAULT_BLOCK
    with CallCounter(warehouse, ops_schema, block=block, scope=scope) as counter:
        if hasattr(budget, "claim"):
            counter.settle_grants_of(budget)
        client = make_client(endpoint, settings, call_counter=counter)
        lease = EndpointLease(
            warehouse,
            endpoint.source,
            endpoint.name,
            ingest_date,
            lease_owner(run_id),
            ops_schema,
            ttl_seconds=lease_ttl_seconds,
            wait_seconds=lease_wait_seconds,
            on_lost=client.cancel,
        )
        try:
            with lease:
                store = BronzeStore(s3, landing_location(config, endpoint, ingest_date, bucket))
                if endpoint.details_of is not None:
                    return _extract_details(
                        config, endpoint, client, store, run_id, ingest_date, warehouse, budget, **kwargs
                    )
                return extract_endpoint(endpoint, client, store, run_id, ingest_date, gate=budget, **kwargs)
        finally:
            client.close()
            # Grants never used (the walk stopped or failed first) go back to the source's budget.
            if budget is not None and budget is not gate:
                budget.close()


def shared_budget(config: LoadedConfig, endpoint: ResolvedEndpoint, warehouse: Connect) -> Any:
    """The source's call budget from the config, shared through the warehouse; None without one."""
    from game_market_pipeline.warehouse.call_budget import SharedCallBudget

    assert config.config is not None
    source = next((s for s in config.config.sources if s.name == endpoint.source), None)
    if (
        source is None
        or source.budget is None
        or (source.budget.calls_per_day is None and source.budget.calls_per_month is None)
    ):
        return None
    return SharedCallBudget(
        warehouse,
        config.config.warehouse.ops_schema,
        endpoint.source,
        source.budget.calls_per_day,
        source.budget.calls_per_month,
    )


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
        raise ValueError(
            f"{endpoint.dag_id}: an endpoint with details_of needs the warehouse (its work list is in staging)"
        )
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
    assert config.config is not None
    # The load's large blocks (S3 chunks, CSV, COPY buffers) go back to the OS when freed (memory.py).
    memory.map_large_blocks()
    bucket, key = location_from_uri(manifest_uri)
    manifest = Manifest.from_json(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    store = BronzeStore(s3, landing_location(config, endpoint, manifest.ingest_date, bucket))
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
