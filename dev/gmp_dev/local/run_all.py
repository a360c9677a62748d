"""`make run`: every ingestion DAG, then the transform DAG, with `airflow dags test` on the local stack.

Prints a per-endpoint table (records, quarantined, API calls, seconds) from ops.ingest_runs, the
row counts of the gold tables, and the quality gate's verdict.

`airflow dags test` records the run's logical date (midnight) as its start, so the UI showed hours-long
runs; after each run its start is set to when its first task started (`record_real_start`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from game_market_pipeline.config.loader import load_config
from gmp_dev.local import stack
from gmp_dev.local.airflow_env import airflow_bin, airflow_environment, prepare_airflow

TRANSFORM_DAG_ID = "transform_warehouse"


def warehouse_url(env: dict[str, str]) -> str:
    value = env["AIRFLOW_CONN_WAREHOUSE_DB"]
    return stack.postgres_url_from_conn(value) if value.lstrip().startswith("{") else value


def migrate_warehouse(url: str) -> None:
    """The warehouse's fixed tables, once, before any load (loads then never run DDL)."""
    from game_market_pipeline.warehouse.cli import connect
    from game_market_pipeline.warehouse.migrate import apply_migrations

    assert (config := load_config()).config is not None
    conn = connect(url)
    try:
        applied = apply_migrations(
            conn, config.config.warehouse.ops_schema, config.config.warehouse.raw_schema
        )
    finally:
        conn.close()
    if applied:
        print(f"applied {len(applied)} warehouse migration(s): {', '.join(m.label for m in applied)}")


def dags_test(dag_id: str, logical_date: str, env: dict[str, str], log_dir: Path) -> tuple[str, int, float]:
    started = time.monotonic()
    log_path = log_dir / f"{dag_id}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.run(
            [airflow_bin(), "dags", "test", dag_id, logical_date],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    record_real_start(env, dag_id)
    return dag_id, proc.returncode, time.monotonic() - started


def metadata_url(env: dict[str, str]) -> str:
    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    return "postgresql://" + url.split("://", 1)[1] if url.startswith("postgresql") else url


def record_real_start(env: dict[str, str], dag_id: str) -> int:
    """Give the runs `airflow dags test` made of `dag_id` their real start time; returns how many changed.

    `dags test` sets a run's start_date to its logical date (Airflow 3.3: `DAG.test` passes
    `start_date=logical_date`), so a run of 2026-11-20 started at midnight in the UI. The real start is
    when its first task started (else when it was created, `run_after`). Only runs marked
    `triggered_by = 'TEST'` whose start still equals their logical date are touched; dag_run and
    task_instance are Airflow's metadata tables (their columns are stable across Airflow 3).
    """
    import psycopg2

    url = metadata_url(env)
    if not url.startswith("postgresql://"):  # the local stack's metadata DB is always PostgreSQL
        return 0
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """
                UPDATE dag_run AS dr SET
                    start_date = COALESCE(
                        (SELECT min(ti.start_date) FROM task_instance AS ti
                         WHERE ti.dag_id = dr.dag_id AND ti.run_id = dr.run_id),
                        dr.run_after),
                    queued_at = COALESCE(dr.queued_at, dr.run_after)
                WHERE dr.dag_id = %s AND dr.triggered_by = 'TEST' AND dr.start_date = dr.logical_date""",
                (dag_id,),
            )
            return cur.rowcount
    finally:
        conn.close()


def ingestion_table(url: str, ingest_date: str) -> str:
    import psycopg2
    from psycopg2 import sql

    from game_market_pipeline.warehouse.schemas import configured_schemas

    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("""
            SELECT DISTINCT ON (source, endpoint) source, endpoint, status, records, loaded, quarantined,
                   api_calls, duration_seconds
            FROM {}.ingest_runs WHERE ingest_date = %s
            ORDER BY source, endpoint, finished_at DESC""").format(sql.Identifier(configured_schemas().ops)),
            (ingest_date,),
        )
        rows = cur.fetchall()
    conn.close()
    lines = [
        f"{'endpoint':28} {'status':24} {'records':>8} {'new rows':>8} {'quarant.':>8} {'API calls':>9} {'seconds':>8}"
    ]
    for source, endpoint, status, records, loaded, quarantined, calls, seconds in rows:
        lines.append(
            f"{source + '.' + endpoint:28} {status:24} {records:>8} {loaded:>8} {quarantined:>8} "
            f"{calls:>9} {seconds or 0:>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--date",
        default=datetime.now(UTC).date().isoformat(),
        help="logical date to run (default: today, UTC)",
    )
    parser.add_argument("--only", nargs="*", help="DAG ids to run (default: every ingestion DAG)")
    parser.add_argument("--parallel", type=int, default=2, help="DAG runs at a time")
    parser.add_argument("--skip-transform", action="store_true")
    args = parser.parse_args(argv)
    date.fromisoformat(args.date)

    print("starting the local stack (embedded PostgreSQL, moto S3, replay APIs) where no connection is set…")
    env = airflow_environment()
    prepare_airflow(env)
    migrate_warehouse(warehouse_url(env))
    log_dir = stack.STATE_DIR / "logs" / args.date
    log_dir.mkdir(parents=True, exist_ok=True)

    config = load_config()
    config.raise_for_problems()
    dag_ids = args.only or [e.dag_id for e in config.endpoints]
    # Register every DAG once up front: parallel `dags test` runs would race to insert new DAG rows.
    subprocess.run(
        [airflow_bin(), "dags", "reserialize"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(
        f"running {len(dag_ids)} ingestion DAGs for {args.date} ({args.parallel} at a time); logs in {log_dir}"
    )
    failed = []
    # Endpoints of details (details_of) read their work list from staging: they run after the lists.
    details = {e.dag_id for e in config.endpoints if e.details_of is not None}
    waves = [[d for d in dag_ids if d not in details], [d for d in dag_ids if d in details]]
    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        for wave in waves:
            for dag_id, code, seconds in pool.map(lambda d: dags_test(d, args.date, env, log_dir), wave):
                print(f"  {'ok  ' if code == 0 else 'FAIL'} {dag_id:36} {seconds:6.1f}s")
                if code != 0:
                    failed.append(dag_id)
    url = warehouse_url(env)
    print("\n" + ingestion_table(url, args.date))

    if not args.skip_transform and not args.only:
        failed += run_transform(args.date, env, log_dir, url)
    if failed:
        print(f"\nFAILED: {', '.join(failed)} — see {log_dir}", file=sys.stderr)
        return 1
    return 0


def run_transform(logical_date: str, env: dict[str, str], log_dir: Path, url: str) -> list[str]:
    dag_file = stack.PROJECT_ROOT / "dags" / f"{TRANSFORM_DAG_ID}.py"
    if not dag_file.exists():
        return []
    print(f"\nrunning {TRANSFORM_DAG_ID} (dbt via Cosmos, quality gate, promotion)…")
    _, code, seconds = dags_test(TRANSFORM_DAG_ID, logical_date, env, log_dir)
    print(f"  {'ok  ' if code == 0 else 'FAIL'} {TRANSFORM_DAG_ID:36} {seconds:6.1f}s")
    print("\n" + gold_counts(url))
    print("\n" + gate_verdict(url))
    return [] if code == 0 else [TRANSFORM_DAG_ID]


def gold_counts(url: str) -> str:
    import psycopg2
    from psycopg2 import sql

    from game_market_pipeline.warehouse.schemas import configured_schemas

    schemas = configured_schemas()
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            SELECT table_schema, table_name FROM information_schema.tables
            WHERE table_schema IN (%s, %s) AND table_type = 'BASE TABLE'
              AND (table_name LIKE 'fact\\_%%' OR table_name LIKE 'dim\\_%%' OR table_name LIKE 'bridge\\_%%'
                   OR table_name LIKE 'mart\\_%%')
            ORDER BY 1, 2""",
            (schemas.production, schemas.audit),
        )
        tables = cur.fetchall()
        lines = [f"{'gold table':48} {'rows':>10}"]

        for schema, table in tables:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            )
            lines.append(f"{schema + '.' + table:48} {cur.fetchone()[0]:>10}")
    conn.close()
    return "\n".join(lines) if tables else "no gold tables found"


def gate_verdict(url: str) -> str:
    import psycopg2

    from game_market_pipeline.promotion.report import latest_verdict
    from game_market_pipeline.warehouse.schemas import configured_schemas

    conn = psycopg2.connect(url)
    try:
        return latest_verdict(conn, configured_schemas().ops)
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
