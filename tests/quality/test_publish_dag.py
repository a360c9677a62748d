"""Write-audit-publish under Airflow itself: `dag.test()` of a DAG wired by `add_publish_tasks`.

The "dbt" task group is a stand-in that writes a small gold build into the audit schema (the real
transform DAG's Cosmos group is exercised by `make run`); everything after it is the real thing:
prepare → checks → reschedule-mode gate → promotion with the production Asset, and the rollback DAG.
"""

from __future__ import annotations

import json
import sqlite3

import psycopg2
import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH
from game_market_pipeline.promotion.report import latest_verdict, table_checksums
from game_market_pipeline.promotion.swap import WapSchemas, schema_builds
from tests.conftest import pg_conn_json
from tests.quality.airflow_session import AirflowSession
from tests.quality.conftest import QUALITY_SECTION

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# The production Asset names the configured production schema (here the test's prefixed one).
PRODUCTION_URI = "postgres://warehouse:5432/warehouse/{production}/_build"

PUBLISH_DAG = '''
import os
from datetime import datetime, timezone

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, TaskGroup

from game_market_pipeline.promotion.tasks import add_publish_tasks


def build_models(run_id, **_):
    """Stand-in for dbt: rebuild the gold tables of this build in the audit schema."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    scenario = os.environ["WAP_TEST_SCENARIO"]
    sales = 30 if scenario == "grown" else 10
    nulls = 3 if scenario == "broken" else 0
    audit = os.environ["GMP_DBT_SCHEMA"]
    conn = PostgresHook(postgres_conn_id="warehouse_db").get_conn()
    with conn, conn.cursor() as cur:
        cur.execute(f'DROP TABLE IF EXISTS "{audit}".fact_sales, "{audit}".dim_store')
        cur.execute(f'CREATE TABLE "{audit}".dim_store AS SELECT g AS store_key, \\'store \\' || g AS name '
                    'FROM generate_series(1, 3) g')
        cur.execute(f'CREATE TABLE "{audit}".fact_sales AS SELECT g AS sale_id, %s::text AS build_id, '
                    '1 + g %% 3 AS store_key, CASE WHEN g <= %s THEN NULL ELSE g * 1.5 END AS amount, '
                    'now() AS sold_at FROM generate_series(1, %s) g', (run_id, nulls, sales))
    conn.close()


with DAG("wap_publish_test", schedule=None, start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
         catchup=False, tags=["test"], default_args={"retries": 0}) as dag:
    with TaskGroup("dbt") as dbt_group:
        PythonOperator(task_id="build_models", python_callable=build_models)

add_publish_tasks(dag, dbt_group, "{{ run_id }}", config_path=os.environ["GMP_CONFIG_PATH"])
'''

ROLLBACK_DAG = """
# An airflow DAG (safe-mode discovery only parses files that mention both words)
from game_market_pipeline.promotion.rollback_dag import build_rollback_dag

dag = build_rollback_dag()
"""


@pytest.fixture(scope="module")
def airflow(tmp_path_factory, pg_url):
    """A private Airflow (SQLite metadata) whose dags folder holds the publish and rollback DAGs, and one
    long-lived process that runs them (tests/quality/airflow_runner.py)."""
    import uuid

    root = tmp_path_factory.mktemp("wap_airflow")
    prefix = f"q{uuid.uuid4().hex[:8]}_"
    schemas = WapSchemas(f"{prefix}analytics_audit", f"{prefix}analytics", f"{prefix}analytics_previous")
    ops = f"{prefix}ops"
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    config["warehouse"]["ops_schema"] = ops
    config["quality"] = {
        **QUALITY_SECTION,
        "gate": {"poke_interval_seconds": 1, "timeout_seconds": 60},
        "promotion": {
            "production_schema": schemas.production,
            "previous_schema": schemas.previous,
            "lock_timeout_ms": 200,
        },
    }
    config_path = root / "endpoints.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    dags = root / "dags"
    dags.mkdir()
    (dags / "wap_publish_test.py").write_text(PUBLISH_DAG)
    (dags / "rollback_warehouse.py").write_text(ROLLBACK_DAG)
    session = AirflowSession(
        root,
        dags,
        {
            "AIRFLOW_CONN_WAREHOUSE_DB": pg_conn_json(pg_url),
            "GMP_CONFIG_PATH": str(config_path),
            "GMP_DBT_SCHEMA": schemas.audit,
        },
    ).start()
    yield {"session": session, "schemas": schemas, "ops": ops, "home": session.home}
    session.stop(wait_seconds=2)
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for schema in (schemas.audit, schemas.production, schemas.previous, ops):
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


def _run(airflow, dag_id, scenario="good", conf=None):
    """One DAG run in the runner process: (dag run state, run id, {task_id: state}, log of this run)."""
    return airflow["session"].run({"dag_id": dag_id, "scenario": scenario, "conf": conf}, timeout_seconds=120)


def _asset_events(airflow):
    db = sqlite3.connect(airflow["home"] / "airflow.db")
    rows = db.execute(
        "SELECT e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.uri = ? ORDER BY e.id",
        (PRODUCTION_URI.format(production=airflow["schemas"].production),),
    ).fetchall()
    db.close()
    return [json.loads(extra) for (extra,) in rows]


def test_write_audit_publish_under_airflow(airflow, pg_url):
    schemas = airflow["schemas"]
    conn = psycopg2.connect(pg_url)
    try:
        # 1. A good build: promoted, the production Asset carries its build id.
        state, b1, tasks, log = _run(airflow, "wap_publish_test", "good")
        assert state == "success", log[-3000:]
        assert set(tasks.values()) == {"success"}, tasks
        assert schema_builds(conn, schemas) == {"audit": None, "production": b1, "previous": None}
        assert _asset_events(airflow)[-1]["build_id"] == b1
        b1_sums = table_checksums(conn, schemas.production)

        # 2. Fails an `error` check: the gate fails, no promotion, production unchanged byte for byte.
        state, b2, tasks, log = _run(airflow, "wap_publish_test", "broken")
        assert state == "failed"
        assert tasks["quality_checks"] == "success" and tasks["quality_gate"] == "failed"
        assert tasks["promote_to_production"] == "upstream_failed"
        assert "fact_sales.null_rate.amount [error] on fact_sales: observed 0.3, threshold <= 0" in log
        assert "data-quality alert" in log  # the notifier (log channel) ran as the gate's failure callback
        assert table_checksums(conn, schemas.production) == b1_sums
        assert schema_builds(conn, schemas)["production"] == b1 and len(_asset_events(airflow)) == 1
        assert latest_verdict(conn, airflow["ops"]).startswith(f"quality gate: FAILED for build {b2}")

        # 3. A build that only fails a `warn` check (rows tripled): alerted, and promoted.
        state, b3, tasks, log = _run(airflow, "wap_publish_test", "grown")
        assert state == "success", log[-3000:]
        assert "quality warnings for build" in log and "fact_sales.relative_change [warn]" in log
        assert schema_builds(conn, schemas) == {"audit": None, "production": b3, "previous": b1}
        verdict = latest_verdict(conn, airflow["ops"])
        assert f"PASSED for build {b3}" in verdict and f"promoted build {b3}" in verdict

        # 4. Rollback: refused without the confirmation, then restores build 1 exactly.
        state, _, tasks, log = _run(airflow, "rollback_warehouse", conf={"confirm": "yes"})
        assert state == "failed" and tasks["rollback_to_previous"] == "failed"
        assert "rollback not confirmed" in log
        assert schema_builds(conn, schemas)["production"] == b3
        state, _, tasks, log = _run(
            airflow, "rollback_warehouse", conf={"confirm": "ROLLBACK", "reason": "test"}
        )
        assert state == "success", log[-3000:]
        assert table_checksums(conn, schemas.production) == b1_sums
        assert schema_builds(conn, schemas) == {"audit": None, "production": b1, "previous": b3}
        assert _asset_events(airflow)[-1] == {
            "build_id": b1,
            "status": "rolled_back",
            "previous_build_id": b3,
        }
        assert f"rolled back to build {b1}" in latest_verdict(conn, airflow["ops"])
    finally:
        conn.close()
