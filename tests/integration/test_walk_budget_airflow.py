"""A budget stop under Airflow itself (`airflow dags test`): the load records `budget_exhausted`, the
project's notifier (log channel) sends exactly one alert, and the DAG run succeeds."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import FAKE_RAWG_KEY
from tests.integration.test_airflow_run import _dags_test, airflow_env  # noqa: F401 - the fixture

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_walk_stopped_by_the_budget_succeeds_records_budget_exhausted_and_alerts_once(
    airflow_env,  # noqa: F811 - the fixture imported above
    fresh_pg_url,
    tmp_path,
):
    import psycopg2
    import yaml

    from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH
    from gmp_dev.replay.server import ReplayServer
    from tests.fixtures_replay import replay_connection_env

    per_day = 5
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    rawg = next(s for s in config["sources"] if s["name"] == "rawg")
    rawg["budget"] = {"calls_per_day": per_day, "note": "a test budget smaller than the walk"}
    config_path = tmp_path / "endpoints.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=1200) as replay:  # 30 pages of 40
        env = {**airflow_env, **replay_connection_env(replay), "GMP_CONFIG_PATH": str(config_path)}
        run = _dags_test(env, "ingest__rawg__games")
        sent = replay.stats()["requests"]
    home = Path(env["AIRFLOW_HOME"])
    output = run.stdout + run.stderr + "".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
    assert run.returncode == 0, output[-4000:]
    assert "ingestion failed" not in output
    alerts = re.findall(r"\[game-market-pipeline\] call budget spent", output)
    assert len(alerts) == 1, output[-4000:]
    assert "ingest__rawg__games.load_to_staging" in output and "resumes where this one stopped" in output
    assert sent == per_day
    db = sqlite3.connect(home / "airflow.db")
    states = db.execute(
        "SELECT task_id, state FROM task_instance WHERE dag_id = 'ingest__rawg__games'"
    ).fetchall()
    db.close()
    assert sorted(states) == [("extract_to_bronze", "success"), ("load_to_staging", "success")]
    conn = psycopg2.connect(fresh_pg_url)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT status, records, api_calls FROM ops.ingest_runs WHERE endpoint = 'games'")
        assert cur.fetchall() == [("budget_exhausted", per_day * 40, per_day)]
        cur.execute('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"')
        assert cur.fetchone() == (per_day * 40, per_day * 40)
    conn.close()
