"""The real transform DAG (Cosmos WATCHER mode: one `dbt build`, one task per node) under `dag.test()`.

Real dbt on the recorded raw payloads in a database of this module alone, real write-audit-publish tasks:

1. a good build: one `dbt build` (the producer), every node's task succeeds, the gate passes, the build is
   promoted, every dbt test's result reached ops.quality_results;
2. a single model fails mid-build (a Postgres event trigger refuses fact_games' table, nothing else):
   its task fails (its two retries re-run that model alone, and fail again) while the nodes that do not
   depend on it succeed, the tasks after it do not run, the gate blocks the promotion and production is
   unchanged byte for byte.
"""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH
from game_market_pipeline.promotion.report import table_checksums
from game_market_pipeline.promotion.swap import WapSchemas, schema_builds
from tests.conftest import _new_database, pg_conn_json
from tests.quality.airflow_session import PROJECT_ROOT, AirflowSession

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG_ID = "transform_warehouse"
FAILING_MODEL = "fact_games"
PRODUCER = "dbt.dbt_producer_watcher"
RUN_TIMEOUT_SECONDS = 900

# Refuses, in this database only, any table whose name starts with the failing model's name: dbt's
# `create table ... as` of that one model fails, as a bad query or a full disk would, mid-build.
FAIL_ONE_MODEL_SQL = f"""
CREATE OR REPLACE FUNCTION public.gmp_test_fail_one_model() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE created record;
BEGIN
  FOR created IN SELECT * FROM pg_event_trigger_ddl_commands() LOOP
    IF created.object_type = 'table' AND created.object_identity ~ '\\.{FAILING_MODEL}($|__)' THEN
      RAISE EXCEPTION 'test: table % refused', created.object_identity;
    END IF;
  END LOOP;
END $$;
CREATE EVENT TRIGGER gmp_test_fail_one_model ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS') EXECUTE FUNCTION public.gmp_test_fail_one_model();
"""


@pytest.fixture(scope="module")
def transform_airflow(tmp_path_factory, pg_server_url):
    """A database with the recorded raw payloads, a private Airflow whose dags folder holds the real
    transform DAG, and one long-lived process running it (tests/quality/airflow_runner.py)."""
    from game_market_pipeline.transform.sources import source_tables
    from tests.dbt.raw_fixture import load_day_one

    databases = _new_database(pg_server_url)
    url = next(databases)
    conn = psycopg2.connect(url)
    load_day_one(conn, [t for _, _, t in source_tables()])
    conn.commit()
    conn.close()

    root = tmp_path_factory.mktemp("transform_airflow")
    prefix = f"w{uuid.uuid4().hex[:6]}_"
    schemas = WapSchemas(f"{prefix}analytics_audit", f"{prefix}analytics", f"{prefix}analytics_previous")
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    # A non-default ops schema and audit schema, both from the config only (no GMP_DBT_SCHEMA): the
    # producer's run_results callback and the quality tasks must all follow warehouse.ops_schema.
    ops = f"{prefix}ops"
    config.setdefault("warehouse", {})["ops_schema"] = ops
    config["dag_defaults"].update(retries=2, retry_delay_seconds=1)  # quick retries of a failed model
    config["quality"]["gate"] = {"poke_interval_seconds": 1, "timeout_seconds": 120}
    config["warehouse"]["audit_schema"] = schemas.audit
    config["quality"]["promotion"].update(
        production_schema=schemas.production, previous_schema=schemas.previous
    )
    config_path = root / "endpoints.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    dags = root / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").symlink_to(PROJECT_ROOT / "dags" / f"{DAG_ID}.py")
    session = AirflowSession(
        root,
        dags,
        {
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW_CONN_WAREHOUSE_DB": pg_conn_json(url),
            "GMP_CONFIG_PATH": str(config_path),
            "GMP_DBT_EXECUTION_MODE": "watcher",
        },
    ).start(unset=("GMP_DBT_SCHEMA",))  # the audit schema comes from the config
    yield {"session": session, "url": url, "schemas": schemas, "ops": ops}
    session.stop()
    next(databases, None)  # drops the database


def _run(airflow) -> tuple[str, str, dict[str, str], str]:
    return airflow["session"].run({"dag_id": DAG_ID}, timeout_seconds=RUN_TIMEOUT_SECONDS, poll_seconds=0.5)


def _dbt_invocations(url: str, ops: str, build_id: str) -> list[str]:
    """The task of every dbt invocation of a build (its run_results.json stored by the Cosmos callback)."""
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute(
            f'SELECT task_id FROM "{ops}".dbt_run_results WHERE build_id = %s ORDER BY id', (build_id,)
        )
        rows = [r[0] for r in cur.fetchall()]
    conn.close()
    return rows


def _dbt_checks(url: str, ops: str, build_id: str) -> dict[str, bool]:
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute(
            f'SELECT check_id, passed FROM "{ops}".quality_results WHERE build_id = %s '
            "AND check_id LIKE 'dbt.%%'",
            (build_id,),
        )
        rows = dict(cur.fetchall())
    conn.close()
    return rows


def test_one_build_per_run_and_a_failing_model_blocks_the_promotion(transform_airflow):
    airflow, schemas = transform_airflow, transform_airflow["schemas"]
    from game_market_pipeline.transform.manifest import MANIFEST_PATH

    manifest = json.loads(MANIFEST_PATH.read_text())
    tests_in_project = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}

    # 1. A good build: promoted; dbt ran once (one producer), every node task succeeded.
    state, b1, tasks, log = _run(airflow)
    assert state == "success", log[-4000:]
    assert {s for t, s in tasks.items() if t.startswith("dbt.")} == {"success"}, tasks
    assert len([t for t in tasks if t.endswith("_run")]) >= 45  # still one task per model
    assert _dbt_invocations(airflow["url"], airflow["ops"], b1) == [PRODUCER]  # dbt ran once
    conn = psycopg2.connect(airflow["url"])
    assert schema_builds(conn, schemas)["production"] == b1
    b1_sums = table_checksums(conn, schemas.production)
    conn.close()
    checks = _dbt_checks(airflow["url"], airflow["ops"], b1)
    assert {c.removeprefix("dbt.") for c in checks} >= tests_in_project  # every dbt test's result
    assert all(checks.values())
    conn = psycopg2.connect(airflow["url"])
    with conn.cursor() as cur:  # nothing went to the default ops schema
        cur.execute("SELECT to_regclass('ops.dbt_run_results'), to_regclass('ops.quality_results')")
        assert cur.fetchone() == (None, None)
    conn.close()

    # 2. One model fails mid-build.
    conn = psycopg2.connect(airflow["url"])
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(FAIL_ONE_MODEL_SQL)
    try:
        state, b2, tasks, log = _run(airflow)
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP EVENT TRIGGER IF EXISTS gmp_test_fail_one_model")
    assert state == "failed"
    assert tasks[f"dbt.{FAILING_MODEL}_run"] == "failed", tasks
    failed = sorted(t for t, s in tasks.items() if s == "failed" and t != PRODUCER)
    assert failed == [f"dbt.{FAILING_MODEL}_run", "quality_gate"], failed  # that model's task, and the gate
    assert tasks["dbt.mart_top_games_by_platform_year_run"] == "upstream_failed"  # downstream of fact_games
    assert tasks["dbt.dim_genre_run"] == "success" and tasks["dbt.fact_tcg_card_prices_run"] == "success"
    assert tasks["quality_checks"] == "success" and tasks["promote_to_production"] == "upstream_failed"
    assert "test: table" in log and FAILING_MODEL in log
    assert table_checksums(conn, schemas.production) == b1_sums
    assert schema_builds(conn, schemas)["production"] == b1
    conn.close()
    # one build, then each retry of the failed model re-ran that model alone (`dbt build --select fact_games`)
    assert (
        _dbt_invocations(airflow["url"], airflow["ops"], b2) == [PRODUCER] + [f"dbt.{FAILING_MODEL}_run"] * 2
    )
    assert f"Retry attempt #2 – Running model 'model.game_market.{FAILING_MODEL}'" in log
    checks = _dbt_checks(airflow["url"], airflow["ops"], b2)
    assert checks[f"dbt.model.game_market.{FAILING_MODEL}"] is False
    assert checks["dbt.build"] is False
