"""The generated DAGs run under Airflow itself: `airflow dags test` with AIRFLOW_CONN_* connections."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FAKE_RAWG_KEY, pg_conn_json, s3_conn_json
from tests.integration.conftest import DAY

pytestmark = [pytest.mark.integration, pytest.mark.slow]
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


@pytest.fixture
def airflow_env(tmp_path, fresh_pg_url, s3_endpoint, s3_bucket, replay_connections):
    home = tmp_path / "airflow"
    env = {
        **os.environ,
        **replay_connections,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[2] / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW_CONN_WAREHOUSE_DB": pg_conn_json(fresh_pg_url),
        "AIRFLOW_CONN_LAKE_S3": s3_conn_json(s3_endpoint),
        "LAKE_BUCKET": s3_bucket,
    }
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [AIRFLOW, "pools", "set", "api_rawg", "2", "rawg"], env=env, check=True, capture_output=True
    )
    return env


def _dags_test(env, dag_id):
    return subprocess.run(
        [AIRFLOW, "dags", "test", dag_id, DAY.isoformat()], env=env, capture_output=True, text=True
    )


def test_dags_test_runs_an_endpoint_dag_and_leaks_no_key(airflow_env, fresh_pg_url, clean_replay_server):
    import psycopg2

    first = _dags_test(airflow_env, "ingest__rawg__genres")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    calls_after_first = clean_replay_server.stats()["requests"]
    assert calls_after_first >= 1

    conn = psycopg2.connect(fresh_pg_url)
    with conn, conn.cursor() as cur:
        cur.execute('SELECT count(*) FROM raw."rawg__genres"')
        assert cur.fetchone()[0] == 19
        cur.execute("SELECT status, api_calls FROM ops.ingest_runs WHERE endpoint = 'genres' ORDER BY id")
        assert cur.fetchall()[-1] == ("loaded", calls_after_first)
        # The task counted its calls in the warehouse and gave its lease back.
        cur.execute("SELECT sum(calls) FROM ops.api_calls WHERE source = 'rawg'")
        assert cur.fetchone()[0] == calls_after_first
        cur.execute("SELECT count(*) FROM ops.ingest_leases")
        assert cur.fetchone()[0] == 0
    conn.close()

    # The same logical date again: no API call, no new row.
    second = _dags_test(airflow_env, "ingest__rawg__genres")
    assert second.returncode == 0, second.stdout[-3000:]
    assert clean_replay_server.stats()["requests"] == calls_after_first

    # The key reached the API (the replay server requires it) but nothing Airflow kept.
    home = Path(airflow_env["AIRFLOW_HOME"])
    logs = "".join(p.read_text(errors="replace") for p in home.rglob("*.log")) + first.stdout + first.stderr
    assert FAKE_RAWG_KEY not in logs
    db = sqlite3.connect(home / "airflow.db")
    xcoms = db.execute("SELECT task_id, value FROM xcom WHERE dag_id = 'ingest__rawg__genres'").fetchall()
    db.close()
    assert {t for t, _ in xcoms} >= {"extract_to_bronze", "load_to_staging"}
    assert all(FAKE_RAWG_KEY not in str(v) for _, v in xcoms)
    manifest_uri = next(json.loads(v)["manifest_uri"] for t, v in xcoms if t == "extract_to_bronze")
    assert manifest_uri.endswith(f"ingest_date={DAY.isoformat()}/_manifest.json")


def test_a_failing_ingestion_task_sends_one_notification_naming_dag_task_and_error(airflow_env, tmp_path):
    """The log notifier (quality.alerts channel `log`) on every generated ingestion DAG: the task fails
    for good after its retries (a wrong API key) and exactly one alert names the DAG, task and error."""
    import yaml

    from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH

    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    # The fewest retries the config allows, one second apart: the test waits seconds, not minutes.
    config["dag_defaults"].update(retries=2, retry_delay_seconds=1, max_retry_delay_seconds=1)
    config_path = tmp_path / "endpoints.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    wrong_key = json.loads(airflow_env["AIRFLOW_CONN_RAWG_API"]) | {"password": "not-the-key"}
    env = {**airflow_env, "GMP_CONFIG_PATH": str(config_path), "AIRFLOW_CONN_RAWG_API": json.dumps(wrong_key)}
    run = _dags_test(env, "ingest__rawg__genres")
    home = Path(env["AIRFLOW_HOME"])
    output = run.stdout + run.stderr + "".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
    alerts = re.findall(r"\[game-market-pipeline\] ingestion failed", output)
    assert len(alerts) == 1, output[-4000:]
    assert "ingest__rawg__genres.extract_to_bronze failed" in output
    assert "the API key is missing or wrong" in output
    assert "not-the-key" not in output
