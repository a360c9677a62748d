"""`add_publish_tasks` on the real transform DAG (Cosmos group from the committed manifest), the rollback
DAG's definition, and the Cosmos callback that stores dbt's run results."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from game_market_pipeline.config.loader import load_config, load_config_cached
from game_market_pipeline.quality.checks import DBT_BUILD_CHECK_ID, plan_from_loaded

CALLBACK = "game_market_pipeline.quality.dbt_results.store_run_results_callback"
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "transform_warehouse.py"


@pytest.fixture(scope="module")
def wired():
    """The transform DAG with the publish tasks, built with every network connection refused."""
    from airflow.sdk import BaseHook

    from game_market_pipeline.promotion.tasks import PUBLISH_OPERATOR_ARGS, add_publish_tasks
    from game_market_pipeline.transform.cosmos_config import build_transform_dag

    def refuse(*args, **kwargs):
        raise AssertionError(f"opened something at parse time: {args!r}")

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse))
    load_config_cached.cache_clear()
    try:
        dag, group = build_transform_dag(
            dag_id="transform_wap_check", schema="analytics_audit", operator_args=PUBLISH_OPERATOR_ARGS
        )
        tasks = add_publish_tasks(dag, group, "{{ run_id }}", audit_schema="analytics_audit")
    finally:
        monkeypatch.undo()
    return dag, group, tasks


def test_prepare_runs_before_every_dbt_task_and_checks_after_all_of_them(wired):
    dag, _, tasks = wired
    dbt_tasks = [t for t in dag.tasks if t.task_id.startswith("dbt.")]
    roots = [t for t in dbt_tasks if not any(u.task_id.startswith("dbt.") for u in t.upstream_list)]
    leaves = [t for t in dbt_tasks if not any(d.task_id.startswith("dbt.") for d in t.downstream_list)]
    assert roots and all(tasks.prepare.task_id in t.upstream_task_ids for t in roots)
    assert leaves and all(tasks.checks.task_id in t.downstream_task_ids for t in leaves)
    assert tasks.checks.trigger_rule == "all_done"  # a failed dbt task is recorded, not skipped
    assert tasks.gate.upstream_task_ids == {"quality_checks"}
    assert tasks.promote.upstream_task_ids == {"quality_gate"}
    assert tasks.promote.trigger_rule == "all_success"


def test_gate_is_a_reschedule_sensor_expecting_every_configured_check(wired):
    _, _, tasks = wired
    gate = tasks.gate
    assert gate.mode == "reschedule" and gate.reschedule
    plan = plan_from_loaded(load_config())
    assert (
        gate.expected_check_ids == plan.expected_check_ids and DBT_BUILD_CHECK_ID in gate.expected_check_ids
    )
    quality = load_config().config.quality
    assert (gate.poke_interval, gate.timeout) == (
        quality.gate.poke_interval_seconds,
        quality.gate.timeout_seconds,
    )
    assert gate.retries >= 2  # transient errors retry; a failed check raises AirflowFailException (no retry)
    assert gate.on_failure_callback and type(gate.on_failure_callback[0]).__name__ == "QualityAlertNotifier"


def test_promotion_emits_the_production_asset_and_the_build_id_is_templated(wired):
    dag, group, tasks = wired
    assert [a.uri for a in tasks.promote.outlets] == ["postgres://warehouse:5432/warehouse/analytics/_build"]
    for task in (tasks.prepare, tasks.checks, tasks.promote):
        assert (
            task.op_kwargs["build_id"] == "{{ run_id }}"
            and task.op_kwargs["audit_schema"] == "analytics_audit"
        )
    assert tasks.checks.op_kwargs["dbt_task_group_id"] == group.group_id
    # the one dbt build stores its run_results.json; a model task's retry (its own dbt run) stores its own
    assert dag.get_task("dbt.dbt_producer_watcher").callback == CALLBACK
    assert dag.get_task("dbt.fact_games_run").callback == CALLBACK


def test_rollback_dag_is_manual_with_a_confirmation_param():
    from game_market_pipeline.promotion.rollback_dag import build_rollback_dag

    dag = build_rollback_dag()
    assert dag.dag_id == "rollback_warehouse" and dag.schedule is None and dag.max_active_runs == 1
    assert dag.params["confirm"] == "" and "ROLLBACK" in dag.params.get_param("confirm").description
    (task,) = dag.tasks
    assert task.retries >= 2 and [a.uri for a in task.outlets] == [
        "postgres://warehouse:5432/warehouse/analytics/_build"
    ]
    assert "manual" in dag.tags and "ROLLBACK" in dag.doc_md


def test_rollback_task_refuses_without_the_confirmation():
    from airflow.sdk.exceptions import AirflowFailException

    from game_market_pipeline.promotion.rollback_dag import rollback_task

    with pytest.raises(AirflowFailException, match="rollback not confirmed"):
        rollback_task(
            confirm="rollback",
            expected_build_id="",
            reason="",
            conn_id="warehouse_db",
            audit_schema="analytics_audit",
        )


@pytest.mark.integration
def test_cosmos_callback_stores_the_run_results_of_the_build(tmp_path, monkeypatch, pg_url, conn, wap):
    from game_market_pipeline.quality.dbt_results import store_run_results_callback
    from game_market_pipeline.quality.store import stored_dbt_run_results
    from tests.conftest import pg_conn_json
    from tests.quality.test_dbt_results import MANIFEST, RUN_RESULTS

    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", pg_conn_json(pg_url))
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "run_results.json").write_text(json.dumps(RUN_RESULTS))
    (tmp_path / "target" / "manifest.json").write_text(json.dumps(MANIFEST))

    class Task:
        def render_template(self, template, context):
            assert template == "{{ run_id }}"
            return context["run_id"]

    context = {
        "task": Task(),
        "run_id": "scheduled__b7",
        "ti": SimpleNamespace(task_id="dbt.fact_games.test"),
    }
    store_run_results_callback(str(tmp_path), context=context, ops_schema=wap.ops)
    (document,) = stored_dbt_run_results(conn, "scheduled__b7", wap.ops)
    assert len(document["results"]) == len(RUN_RESULTS["results"])
    assert {r.get("attached_model") for r in document["results"]} >= {"fact_games", "dim_store"}


def test_the_transform_dag_file_calls_the_publish_tasks():
    """dags/transform_warehouse.py wires the gate and promotion around its dbt group."""
    source = DAG_FILE.read_text()
    assert "add_publish_tasks(dag, dbt_group" in source and "PUBLISH_OPERATOR_ARGS" in source
