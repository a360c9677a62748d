"""Fixtures of the write-audit-publish tests: a real Postgres, and schemas private to each test.

Every test gets its own schema names (`<prefix>analytics`, `<prefix>analytics_audit`, …) and its own ops
schema in the session database, so tests never see each other's builds, nor the other parts' tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from game_market_pipeline.promotion.swap import WapSchemas, prepare_audit


@dataclass(frozen=True)
class Wap:
    schemas: WapSchemas
    ops: str
    raw: str
    prefix: str


@pytest.fixture
def wap(pg_url: str) -> Iterator[Wap]:
    prefix = f"q{uuid.uuid4().hex[:8]}_"
    yield Wap(
        WapSchemas(f"{prefix}analytics_audit", f"{prefix}analytics", f"{prefix}analytics_previous"),
        f"{prefix}ops",
        f"{prefix}raw",
        prefix,
    )
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (prefix + "%",))
        for (schema,) in cur.fetchall():
            cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    conn.close()


@pytest.fixture
def conn(pg_url: str, wap: Wap) -> Iterator[Any]:
    """A connection of the test; closed before `wap` drops the test's schemas (it depends on `wap`)."""
    connection = psycopg2.connect(pg_url)
    yield connection
    connection.close()


def write_build(
    conn: Any,
    wap: Wap,
    build_id: str,
    *,
    sales: int = 10,
    null_amounts: int = 0,
    orphan_stores: int = 0,
    duplicate_sales: int = 0,
    prepare: bool = True,
) -> None:
    """A small gold 'build' in the audit schema, as dbt would leave it: a fact and a dimension.

    Every fact row carries the build id, so a reader can tell which build it reads. Tables are rebuilt
    (as dbt's `table` materialization does); the prepare step recycles/creates the schema first.
    """
    if prepare:
        prepare_audit(conn, build_id, wap.schemas, ops_schema=wap.ops)
    audit = wap.schemas.audit
    with conn.cursor() as cur:
        fact, dim = sql.Identifier(audit, "fact_sales"), sql.Identifier(audit, "dim_store")
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(fact, dim))
        cur.execute(sql.SQL("CREATE TABLE {} (store_key int PRIMARY KEY, name text NOT NULL)").format(dim))
        cur.execute(
            sql.SQL("INSERT INTO {} SELECT g, 'store ' || g FROM generate_series(1, 3) g").format(dim)
        )
        cur.execute(
            sql.SQL(
                "CREATE TABLE {} (sale_id int, build_id text, store_key int, amount numeric, "
                "sold_at timestamptz)"
            ).format(fact)
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {} SELECT g, %s, 1 + g %% 3, CASE WHEN g <= %s THEN NULL ELSE g * 1.5 END, "
                "now() - interval '1 hour' FROM generate_series(1, %s) g"
            ).format(fact),
            (build_id, null_amounts, sales),
        )
        if orphan_stores:
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} SELECT 100000 + g, %s, 99, 1, now() FROM generate_series(1, %s) g"
                ).format(fact),
                (build_id, orphan_stores),
            )
        if duplicate_sales:
            cur.execute(
                sql.SQL(
                    "INSERT INTO {} SELECT sale_id, build_id, store_key, amount, sold_at FROM {} "
                    "ORDER BY sale_id LIMIT %s"
                ).format(fact, fact),
                (duplicate_sales,),
            )
    conn.commit()


QUALITY_SECTION = {
    "defaults": {"severity": "error"},
    "models": {
        "fact_sales": {
            "row_count": {"min": 5},
            "relative_change": {"max": 0.5, "severity": "warn"},
            "null_rate": [{"column": "amount", "max": 0.0}],
            "unique": [{"columns": ["sale_id"]}],
            "relationships": [{"column": "store_key", "to": "dim_store", "field": "store_key"}],
            "freshness": {"column": "sold_at", "max_age_hours": 24, "severity": "warn"},
        },
        "dim_store": {"row_count": {"min": 1}, "unique": [{"columns": ["store_key"]}]},
    },
}
