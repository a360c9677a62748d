"""The generated DAGs run under Airflow itself: `airflow dags test` with AIRFLOW_CONN_* connections."""

from __future__ import annotations

import json
import os
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
