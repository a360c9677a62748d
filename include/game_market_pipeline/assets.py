"""The Airflow Assets that connect the parts (see docs/CONTRACTS.md, "Airflow Assets").

Each ingestion DAG's load task emits two Assets once it has written its staging table:
`staging_asset(endpoint)`, the table itself (lineage: which DAG writes which table), and
`source_asset(endpoint.source)`, "a raw table of this source changed". The transform DAG is
scheduled on the source Assets only (one per source, so its schedule does not grow with the
endpoint count); the promotion emits `production_asset()`.
One helper on both sides keeps the URIs from drifting apart.

Each Asset has a readable name, the one the UI's Assets page lists (`raw.rawg__games`,
`raw.rawg (any table)`, `analytics (production)`), next to its URI, which stays the same for lineage
(OpenLineage, the postgres provider) and for Asset events recorded under it. The schema in names and
URIs is the configured one (warehouse.schemas): the caller's, else the pipeline config's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from airflow.sdk import Asset

# The postgres provider validates asset URIs: postgres://<host>:<port>/<database>/<schema>/<table>.
# "warehouse" names the logical warehouse (connection warehouse_db), whatever its real host is.
WAREHOUSE_URI = "postgres://warehouse:5432/warehouse"


class _HasTableName(Protocol):
    @property
    def table_name(self) -> str: ...


def _raw(raw_schema: str | None) -> str:
    from game_market_pipeline.warehouse.schemas import configured_schemas

    return raw_schema or configured_schemas().raw


def _production(production_schema: str | None) -> str:
    from game_market_pipeline.warehouse.schemas import configured_schemas

    return production_schema or configured_schemas().production


def staging_asset_uri(table_name: str, raw_schema: str | None = None) -> str:
    return f"{WAREHOUSE_URI}/{_raw(raw_schema)}/{table_name}"


def source_asset_uri(source: str, raw_schema: str | None = None) -> str:
    # Staging tables are `<source>__<endpoint>` with identifiers starting with a letter, so a name
    # starting with "_" never collides with a real table (the same convention as analytics/_build).
    return f"{WAREHOUSE_URI}/{_raw(raw_schema)}/_{source}"


def staging_asset_name(table_name: str, raw_schema: str | None = None) -> str:
    return f"{_raw(raw_schema)}.{table_name}"


def source_asset_name(source: str, raw_schema: str | None = None) -> str:
    return f"{_raw(raw_schema)}.{source} (any table)"


def production_asset_name(production_schema: str | None = None) -> str:
    return f"{_production(production_schema)} (production)"


def staging_asset(endpoint: _HasTableName | str, raw_schema: str | None = None) -> Asset:
    """`Asset(name="raw.<source>__<endpoint>", uri="postgres://warehouse:5432/warehouse/raw/<source>__<endpoint>")`
    for a ResolvedEndpoint (or its table name)."""
    from airflow.sdk import Asset

    table_name = endpoint if isinstance(endpoint, str) else endpoint.table_name
    return Asset(
        name=staging_asset_name(table_name, raw_schema), uri=staging_asset_uri(table_name, raw_schema)
    )


def source_asset(source: str, raw_schema: str | None = None) -> Asset:
    """`Asset(name="raw.<source> (any table)", uri="postgres://warehouse:5432/warehouse/raw/_<source>")`:
    some staging table of `source` was loaded.

    Emitted by every load task of the source next to its table's `staging_asset`; the transform
    DAG is scheduled on these (see transform.cosmos_config.transform_schedule for why not on the
    per-table Assets).
    """
    from airflow.sdk import Asset

    return Asset(name=source_asset_name(source, raw_schema), uri=source_asset_uri(source, raw_schema))


def production_asset(production_schema: str | None = None) -> Asset:
    """`Asset(name="analytics (production)", uri="postgres://warehouse:5432/warehouse/analytics/_build")`:
    emitted once a build is promoted to production (or rolled back)."""
    from airflow.sdk import Asset

    # The whole schema is swapped at once; `_build` stands for "the current production build".
    schema = _production(production_schema)
    return Asset(name=production_asset_name(schema), uri=f"{WAREHOUSE_URI}/{schema}/_build")
