"""The warehouse migrations: applied once by one owner, concurrently safe, adopting old warehouses."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from game_market_pipeline.warehouse import cli
from game_market_pipeline.warehouse.migrate import (
    MigrationError,
    apply_migrations,
    ensure_migrated,
    migrations,
    pending_migrations,
    status,
)

pytestmark = pytest.mark.integration

EVERY = len(migrations("ops")) + len(migrations("raw"))


def _rows(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def test_migrate_command_applies_everything_once(fresh_pg_url, capsys):
    assert cli.main(["migrate", "--url", fresh_pg_url]) == 0
    assert f"{EVERY} migration(s) applied" in capsys.readouterr().out
    assert cli.main(["migrate", "--url", fresh_pg_url]) == 0
    assert "0 migration(s) applied" in capsys.readouterr().out
    tables = {
        f"{schema}.{name}"
        for schema, name in _rows(
            fresh_pg_url,
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('ops', 'raw')",
        )
    }
    assert {
        "ops.schema_migrations",
        "ops.ingest_runs",
        "ops.api_calls",
        "ops.ingest_calls",
        "ops.ingest_leases",
        "ops.quality_results",
        "ops.quality_latest",
        "ops.quality_verdicts",
        "ops.dbt_run_results",
        "ops.promotions",
        "raw.quarantine",
    } <= tables
    assert cli.main(["status", "--url", fresh_pg_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == EVERY and all(line.endswith(" applied") for line in lines)


def test_concurrent_runners_apply_each_migration_once(fresh_pg_url):
    errors: list[BaseException] = []
    applied: list[int] = []
    start = threading.Barrier(4)

    def run() -> None:
        conn = psycopg2.connect(fresh_pg_url)
        try:
            start.wait()
            applied.append(len(apply_migrations(conn)))
        except BaseException as exc:  # noqa: BLE001 - collected, asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(applied) == [0, 0, 0, EVERY]
    assert _rows(fresh_pg_url, "SELECT count(*) FROM ops.schema_migrations") == [(EVERY,)]


def test_a_warehouse_from_before_migrations_is_adopted_with_its_rows(fresh_pg_url):
    # What loads used to create for themselves (ingest/staging.py before issue 19).
    _rows(
        fresh_pg_url,
        """CREATE SCHEMA ops;
        CREATE TABLE ops.ingest_runs (id bigserial PRIMARY KEY, run_id text NOT NULL, source text NOT NULL,
            endpoint text NOT NULL, ingest_date date NOT NULL, status text NOT NULL,
            pages integer NOT NULL DEFAULT 0, records integer NOT NULL DEFAULT 0, loaded integer NOT NULL DEFAULT 0,
            quarantined integer NOT NULL DEFAULT 0, quarantine_rate double precision NOT NULL DEFAULT 0,
            drift_fields jsonb NOT NULL DEFAULT '{}', api_calls integer NOT NULL DEFAULT 0,
            duration_seconds double precision, started_at timestamptz,
            finished_at timestamptz NOT NULL DEFAULT now(), manifest_uri text, message text);
        INSERT INTO ops.ingest_runs (run_id, source, endpoint, ingest_date, status)
            VALUES ('old', 'rawg', 'games', '2026-11-01', 'loaded');""",
    )
    conn = psycopg2.connect(fresh_pg_url)
    try:
        assert len(apply_migrations(conn)) == EVERY
    finally:
        conn.close()
    assert _rows(fresh_pg_url, "SELECT run_id FROM ops.ingest_runs") == [("old",)]


def test_ensure_migrated_is_reads_only_once_current_and_honours_schema_names(fresh_pg_url):
    conn = psycopg2.connect(fresh_pg_url, options="-c statement_timeout=5000")  # a wait would fail, not hang
    try:
        ensure_migrated(conn, "ops_custom", "raw_custom")
        assert pending_migrations(conn, "ops_custom", "raw_custom") == []
        assert _rows(fresh_pg_url, "SELECT to_regclass('raw_custom.quarantine') IS NOT NULL") == [(True,)]
        # Current: no lock, no DDL — it even runs while another session holds every ops table.
        blocker = psycopg2.connect(fresh_pg_url)
        with blocker.cursor() as cur:
            cur.execute("LOCK TABLE ops_custom.ingest_runs, ops_custom.api_calls IN ACCESS EXCLUSIVE MODE")
            ensure_migrated(conn, "ops_custom", "raw_custom")
        blocker.rollback()
        blocker.close()
        # Only the ops track when no raw schema is named (the quality and promotion code).
        assert [m.track for m in pending_migrations(conn, "ops_other", None)] == ["ops"] * len(
            migrations("ops")
        )
        lines = status(conn, "ops_custom", "raw_custom")
        assert all(line.endswith(" applied") for line in lines)
    finally:
        conn.close()


def test_a_failing_migration_names_itself_and_commits_nothing(fresh_pg_url):
    _rows(fresh_pg_url, "CREATE SCHEMA ops; CREATE TABLE ops.quality_latest (x int)")  # in the way
    conn = psycopg2.connect(fresh_pg_url)
    try:
        with pytest.raises(MigrationError, match=r"migration ops/0002_quality failed on schema 'ops'"):
            apply_migrations(conn)
    finally:
        conn.close()
    assert _rows(
        fresh_pg_url, "SELECT to_regclass('ops.schema_migrations'), to_regclass('ops.ingest_runs')"
    ) == [(None, None)]
