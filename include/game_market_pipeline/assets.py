"""The Airflow Assets that connect the parts (see docs/CONTRACTS.md, "Airflow Assets").

Each ingestion DAG's load task emits two Assets once it has written its staging table:
`staging_asset(endpoint)`, the table itself (lineage: which DAG writes which table), and
`source_asset(endpoint.source)`, "a raw table of this source changed". The transform DAG is
scheduled on the source Assets only (one per source, so its schedule does not grow with the
endpoint count); the promotion emits `production_asset()`.
One helper on both sides keeps the URIs from drifting apart.

Each Asset has a readable name, the one the UI's Assets page lists (`raw.rawg__games`,
`raw.rawg (any table)`, `analytics (production)`), next to its URI, which stays the same for lineage
(OpenLineage, the postgres provider) and for Asset events recorded under it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from airflow.sdk import Asset

# The postgres provider validates asset URIs: postgres://<host>:<port>/<database>/<schema>/<table>.
# "warehouse" names the logical warehouse (connection warehouse_db), whatever its real host is.
WAREHOUSE_URI = "postgres://warehouse:5432/warehouse"
RAW_SCHEMA = "raw"
PRODUCTION_SCHEMA = "analytics"


class _HasTableName(Protocol):
    @property
    def table_name(self) -> str: ...


def staging_asset_uri(table_name: str) -> str:
    return f"{WAREHOUSE_URI}/{RAW_SCHEMA}/{table_name}"


def source_asset_uri(source: str) -> str:
    # Staging tables are `<source>__<endpoint>` with identifiers starting with a letter, so a name
    # starting with "_" never collides with a real table (the same convention as analytics/_build).
    return f"{WAREHOUSE_URI}/{RAW_SCHEMA}/_{source}"


def staging_asset_name(table_name: str) -> str:
    return f"{RAW_SCHEMA}.{table_name}"


def source_asset_name(source: str) -> str:
    return f"{RAW_SCHEMA}.{source} (any table)"


PRODUCTION_ASSET_NAME = f"{PRODUCTION_SCHEMA} (production)"


def staging_asset(endpoint: _HasTableName | str) -> Asset:
    """`Asset(name="raw.<source>__<endpoint>", uri="postgres://warehouse:5432/warehouse/raw/<source>__<endpoint>")`
    for a ResolvedEndpoint (or its table name)."""
    from airflow.sdk import Asset

    table_name = endpoint if isinstance(endpoint, str) else endpoint.table_name
    return Asset(name=staging_asset_name(table_name), uri=staging_asset_uri(table_name))


def source_asset(source: str) -> Asset:
    """`Asset(name="raw.<source> (any table)", uri="postgres://warehouse:5432/warehouse/raw/_<source>")`:
    some staging table of `source` was loaded.

    Emitted by every load task of the source next to its table's `staging_asset`; the transform
    DAG is scheduled on these (see transform.cosmos_config.transform_schedule for why not on the
    per-table Assets).
    """
    from airflow.sdk import Asset

    return Asset(name=source_asset_name(source), uri=source_asset_uri(source))


def production_asset() -> Asset:
    """`Asset(name="analytics (production)", uri="postgres://warehouse:5432/warehouse/analytics/_build")`:
    emitted once a build is promoted to production (or rolled back)."""
    from airflow.sdk import Asset

    # The whole schema is swapped at once; `_build` stands for "the current production build".
    return Asset(name=PRODUCTION_ASSET_NAME, uri=f"{WAREHOUSE_URI}/{PRODUCTION_SCHEMA}/_build")
