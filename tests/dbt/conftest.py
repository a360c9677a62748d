"""dbt test fixtures: a real Postgres with the staging tables loaded from the recorded payloads,
and ONE `dbt build` per session that the known-answer and build tests share.

The incremental tests need raw tables they can change: they get a second database of their own
(`scratch_pg_url`), so the shared build stays as loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from game_market_pipeline.transform.sources import source_tables
from tests.dbt.dbt_cli import DbtRun, run_dbt
from tests.dbt.raw_fixture import load_day_one

BUILD_SCHEMA = "wh_build"


class Warehouse:
    """A loaded database plus the schema one dbt build wrote."""

    def __init__(self, pg_url: str, schema: str, build: DbtRun | None = None) -> None:
        self.pg_url = pg_url
        self.schema = schema
        self.build = build

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg2.connect(self.pg_url) as conn, conn.cursor() as cur:
            cur.execute(statement.replace("{schema}", self.schema), params)
            return cur.fetchall()

    def scalar(self, statement: str, params: Any = None) -> Any:
        rows = self.query(statement, params)
        return rows[0][0] if rows else None


def staging_table_names() -> list[str]:
    return [table for _, _, table in source_tables()]


@pytest.fixture(scope="session")
def dbt_work_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dbt")


@pytest.fixture(scope="session")
def loaded_pg_url(pg_url: str) -> str:
    with psycopg2.connect(pg_url) as conn:
        load_day_one(conn, staging_table_names())
    return pg_url


@pytest.fixture(scope="session")
def warehouse(loaded_pg_url: str, dbt_work_dir: Path) -> Warehouse:
    """`dbt build` (seeds, models, data tests, unit tests) once per session."""
    build = run_dbt(["build"], pg_url=loaded_pg_url, schema=BUILD_SCHEMA, work_dir=dbt_work_dir, check=False)
    return Warehouse(loaded_pg_url, BUILD_SCHEMA, build)


@pytest.fixture(scope="session")
def scratch_pg_url(pg_server_url: str) -> Iterator[str]:
    """A second fresh database on the same server, for tests that change the raw tables."""
    name = f"gmp_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = pg_server_url.rpartition("/")
    yield f"{base}/{name}"
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
            "AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.close()
