"""The Airflow Assets that connect the parts (see docs/CONTRACTS.md, "Airflow Assets").

Ingestion DAGs emit `staging_asset(endpoint)` when their load task has written the staging table;
the transform DAG is scheduled on them; the promotion emits `production_asset()`.
One helper on both sides keeps the URIs from drifting apart.
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


def staging_asset(endpoint: _HasTableName | str) -> Asset:
    """`Asset("postgres://warehouse:5432/warehouse/raw/<source>__<endpoint>")` for a ResolvedEndpoint (or its table name)."""
    from airflow.sdk import Asset

    table_name = endpoint if isinstance(endpoint, str) else endpoint.table_name
    return Asset(staging_asset_uri(table_name))


def production_asset() -> Asset:
    """`Asset("postgres://warehouse:5432/warehouse/analytics/_build")`: emitted once a build is promoted to production."""
    from airflow.sdk import Asset

    # The whole schema is swapped at once; `_build` stands for "the current production build".
    return Asset(f"{WAREHOUSE_URI}/{PRODUCTION_SCHEMA}/_build")
