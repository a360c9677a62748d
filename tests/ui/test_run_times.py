"""`make run`'s runs show real start times: `dags test` records the logical date, run_all corrects it.

`airflow dags test` (Airflow 3.3's `DAG.test`) creates its run with `start_date=logical_date` and
`triggered_by='TEST'`. A real `dags test` costs ~30-60 s here, so the test takes a run the scheduler
really executed (the browser tests' rollback, or one triggered here that fails at once), gives it what
`dags test` would have recorded, and checks that `record_real_start` restores the real start.
"""

from __future__ import annotations

import time
from datetime import timedelta

import psycopg2
import pytest
import requests

from gmp_dev.local.run_all import metadata_url, record_real_start

pytestmark = [pytest.mark.integration, pytest.mark.ui]
DAG_ID = "rollback_warehouse"
RUN_SECONDS = 90


def _query(env: dict[str, str], statement: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(metadata_url(env))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _finished_run(server) -> str:
    finished = "SELECT run_id FROM dag_run WHERE dag_id = %s AND end_date IS NOT NULL ORDER BY id LIMIT 1"
    rows = _query(server.env, finished, (DAG_ID,))
    if rows:
        return rows[0][0]
    headers = {"Authorization": f"Bearer {server.token('admin')}"}
    requests.patch(
        f"{server.url}/api/v2/dags/{DAG_ID}", json={"is_paused": False}, headers=headers, timeout=10
    )
    # Not confirmed: the run fails at once without touching the warehouse.
    requests.post(
        f"{server.url}/api/v2/dags/{DAG_ID}/dagRuns",
        json={"logical_date": None, "conf": {"confirm": "no"}},
        headers=headers,
        timeout=10,
    ).raise_for_status()
    deadline = time.monotonic() + RUN_SECONDS
    while not (rows := _query(server.env, finished, (DAG_ID,))):
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(1)
    return rows[0][0]


def test_record_real_start_restores_the_first_task_start(airflow_server):
    env = airflow_server.env
    run_id = _finished_run(airflow_server)
    [(first_task_start, end)] = _query(
        env,
        "SELECT min(ti.start_date), dr.end_date FROM dag_run dr JOIN task_instance ti USING (dag_id, run_id) "
        "WHERE dr.dag_id = %s AND dr.run_id = %s GROUP BY dr.end_date",
        (DAG_ID, run_id),
    )
    # What `dags test` records: the logical date (midnight) as the start.
    _query(
        env,
        "UPDATE dag_run SET triggered_by = 'TEST', logical_date = date_trunc('day', run_after), "
        "start_date = date_trunc('day', run_after) WHERE dag_id = %s AND run_id = %s",
        (DAG_ID, run_id),
    )
    assert record_real_start(env, DAG_ID) == 1
    [(start,)] = _query(
        env, "SELECT start_date FROM dag_run WHERE dag_id = %s AND run_id = %s", (DAG_ID, run_id)
    )
    assert start == first_task_start
    assert timedelta(0) <= end - start < timedelta(minutes=5)
    assert record_real_start(env, DAG_ID) == 0  # idempotent: corrected runs are left alone
