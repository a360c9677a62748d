"""DAG integrity of the transform DAG (dags/transform_warehouse.py, rendered by Cosmos).

- parsing renders from the committed manifest: no dbt, no subprocess, no connection, bounded time;
- the rendered tasks are exactly what the AFTER_EACH rules make of the manifest's models and tests;
- test tasks are never retried; detached (multi-parent) tests run after all their parents;
- scheduled on the OR of every staging Asset; the password reaches dbt only as an env variable;
- `build_transform_dag` returns the dbt task group so the gate/promotion tasks can follow it.
"""

from __future__ import annotations

import json
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from game_market_pipeline.config.loader import load_config, load_config_cached
from game_market_pipeline.transform import cosmos_config
from game_market_pipeline.transform.manifest import MANIFEST_PATH

DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "transform_warehouse.py"
PARSE_BUDGET_SECONDS = 15.0  # cold import of Airflow + Cosmos and the render, on a 2-core CI machine
TESTABLE = ("model", "seed", "snapshot")


@pytest.fixture(scope="module")
def parsed(request):
    """Parse the DAG file once, with dbt, subprocesses, sockets and connection lookups all refused."""
    monkeypatch = pytest.MonkeyPatch()
    calls: list[object] = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError(f"the transform DAG ran something at parse time: {args!r}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    from airflow.sdk import BaseHook
    from dbt.cli.main import dbtRunner

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse))
    monkeypatch.setattr(dbtRunner, "invoke", refuse)
    load_config_cached.cache_clear()
    started = time.perf_counter()
    try:
        namespace = runpy.run_path(str(DAG_FILE))
    finally:
        elapsed = time.perf_counter() - started
        monkeypatch.undo()
    print(f"\ntransform DAG parse: {elapsed:.2f}s, {len(namespace['dag'].tasks)} tasks in the DAG")
    return namespace["dag"], namespace["dbt_group"], elapsed, calls


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST_PATH.read_text())


def expected_task_ids(manifest: dict) -> set[str]:
    """AFTER_EACH with detached multi-parent tests: a model/seed is `<name>.run|seed`, plus `<name>.test`
    when it has a test of its own (exactly one parent); a test with several parents is `<test>_test`."""
    nodes = manifest["nodes"]
    single_parent = {n["depends_on"]["nodes"][0] for n in nodes.values()
                     if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) == 1}
    ids = set()
    for uid, node in nodes.items():
        if node["resource_type"] in TESTABLE:
            verb = {"model": "run", "seed": "seed", "snapshot": "snapshot"}[node["resource_type"]]
            if uid in single_parent:
                ids |= {f"dbt.{node['name']}.{verb}", f"dbt.{node['name']}.test"}
            else:
                ids.add(f"dbt.{node['name']}_{verb}")
        elif node["resource_type"] == "test" and len(node["depends_on"]["nodes"]) > 1:
            ids.add(f"dbt.{node['name']}_test")
    return ids


def test_parse_runs_no_dbt_and_opens_nothing(parsed):
    dag, _, elapsed, calls = parsed
    assert calls == []
    assert elapsed < PARSE_BUDGET_SECONDS
    assert dag.dag_id == "transform_warehouse"


def dbt_tasks(dag) -> list:
    """The tasks Cosmos rendered (the write-audit-publish tasks around the group are not dbt's)."""
    return [t for t in dag.tasks if t.task_id.startswith(f"{cosmos_config.DBT_TASK_GROUP_ID}.")]


def test_rendered_tasks_match_the_manifest(parsed, manifest):
    dag, dbt_group, _, _ = parsed
    expected = expected_task_ids(manifest)
    assert {t.task_id for t in dbt_tasks(dag)} == expected
    assert set(dbt_group.children) and all(t.task_group.group_id.startswith("dbt") for t in dbt_tasks(dag))
    nodes = manifest["nodes"].values()
    models = sum(1 for n in nodes if n["resource_type"] == "model")
    detached = sum(1 for n in nodes if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) > 1)
    print(f"\n{len(expected)} dbt tasks: {models} models, {detached} detached tests, "
          f"{sum(1 for n in nodes if n['resource_type'] == 'test')} dbt tests in the manifest")
    assert models >= 45 and detached >= 20


def test_every_model_runs_its_tests_and_unit_tests_right_after_it(parsed, manifest):
    dag, _, _, _ = parsed
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        test_task = dag.task_dict.get(f"dbt.{node['name']}.test")
        assert test_task is not None, f"{uid} has no test task"
        assert test_task.upstream_task_ids == {f"dbt.{node['name']}.run"}
    # unit tests run in their model's test task (`dbt test --select <model>`)
    for unit_test in manifest["unit_tests"].values():
        assert f"dbt.{unit_test['model']}.test" in dag.task_dict


def test_test_tasks_are_not_retried_and_run_tasks_are(parsed):
    dag, _, _, _ = parsed
    tests = [t for t in dbt_tasks(dag) if t.task_id.endswith((".test", "_test"))]
    others = [t for t in dbt_tasks(dag) if t not in tests]
    assert tests and others
    assert {t.retries for t in tests} == {0}
    assert {t.retries for t in others} == {load_config().config.dag_defaults.retries}


def test_detached_tests_run_after_all_their_parents(parsed, manifest):
    dag, _, _, _ = parsed
    names = {uid: node["name"] for uid, node in manifest["nodes"].items()}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or len(node["depends_on"]["nodes"]) < 2:
            continue
        task = dag.get_task(f"dbt.{node['name']}_test")
        upstream = task.upstream_task_ids
        for parent in node["depends_on"]["nodes"]:
            assert f"dbt.{names[parent]}.test" in upstream or f"dbt.{names[parent]}.run" in upstream, (
                task.task_id, parent)


def test_model_dependencies_follow_the_refs(parsed, manifest):
    dag, _, _, _ = parsed
    fact = dag.get_task("dbt.fact_tcg_card_prices.run")
    assert "dbt.stg_tcgdex__card_versions.test" in fact.upstream_task_ids
    assert "dbt.stg_pokemontcg__card_versions.test" in fact.upstream_task_ids
    assert "dbt.tcg_price_variants.test" in fact.upstream_task_ids


def test_scheduled_on_any_staging_asset(parsed):
    dag, _, _, _ = parsed
    from airflow.sdk.definitions.asset import AssetAny

    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAny)
    assert {a.uri for a in condition.objects} == {
        f"postgres://warehouse:5432/warehouse/raw/{e.table_name}" for e in load_config().endpoints}
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"transform", "dbt"} <= set(dag.tags) and dag.doc_md


def test_execution_runs_the_venvs_dbt_locally_without_packages(parsed):
    dag, _, _, _ = parsed
    from cosmos.constants import InvocationMode

    run = dag.get_task("dbt.fact_games.run")
    assert type(run).__name__ == "DbtRunLocalOperator"
    assert Path(run.dbt_executable_path) == Path(sys.executable).parent / "dbt"
    assert run.invocation_mode == InvocationMode.DBT_RUNNER  # in-process: no per-task Python start-up
    assert run.install_deps is False
    assert Path(run.project_dir) == DAG_FILE.parents[1] / "dbt"
    test = dag.get_task("dbt.fact_games.test")
    assert type(test).__name__ == "DbtTestLocalOperator"


def test_profile_targets_the_schema_parameter(parsed, monkeypatch):
    dag, _, _, _ = parsed
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    profile = dag.get_task("dbt.fact_games.run").profile_config
    assert isinstance(profile.profile_mapping, PostgresUserPasswordProfileMapping)
    assert profile.profile_mapping.conn_id == "warehouse_db"
    assert profile.profile_mapping.profile_args["schema"] == cosmos_config.target_schema()
    monkeypatch.setenv("GMP_DBT_SCHEMA", "analytics_green")
    assert cosmos_config.profile_config().profile_mapping.profile_args["schema"] == "analytics_green"
    assert cosmos_config.profile_config("analytics_blue").profile_mapping.profile_args["schema"] == "analytics_blue"


def test_password_reaches_dbt_only_as_an_environment_variable(monkeypatch):
    secret = "s3cret-Pa55-not-in-files"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", json.dumps(
        {"conn_type": "postgres", "host": "db.internal", "port": 5432, "login": "dbt", "password": secret,
         "schema": "warehouse"}))
    profile = cosmos_config.profile_config("analytics_audit")
    contents = profile.profile_mapping.get_profile_file_contents("game_market", "airflow")
    assert secret not in contents
    output = yaml.safe_load(contents)["game_market"]["outputs"]["airflow"]
    assert output["password"] == "{{ env_var('COSMOS_CONN_POSTGRES_PASSWORD') }}"
    assert (output["schema"], output["host"], output["dbname"]) == ("analytics_audit", "db.internal", "warehouse")
    assert profile.profile_mapping.env_vars == {"COSMOS_CONN_POSTGRES_PASSWORD": secret}


def test_a_connection_without_password_still_maps(monkeypatch):
    """The local stack's Postgres uses trust authentication: its connection has no password."""
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", json.dumps(
        {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": "postgres"}))
    profile = cosmos_config.profile_config("analytics_audit")
    assert profile.profile_mapping.env_vars == {"COSMOS_CONN_POSTGRES_PASSWORD": ""}


def test_gate_tasks_can_follow_the_dbt_group():
    """The hook for write-audit-publish: tasks appended after the returned task group run after every dbt task."""
    from airflow.providers.standard.operators.empty import EmptyOperator

    dag, dbt_group = cosmos_config.build_transform_dag(dag_id="transform_hook_check", schema="analytics_audit")
    assert dbt_group.group_id == cosmos_config.DBT_TASK_GROUP_ID
    prepare = EmptyOperator(task_id="prepare", dag=dag)
    gate = EmptyOperator(task_id="gate", dag=dag)
    prepare >> dbt_group >> gate
    group_tasks = dbt_tasks(dag)
    leaves = [t for t in group_tasks if not any(d.task_id.startswith("dbt.") for d in t.downstream_list)]
    roots = [t for t in group_tasks if not any(u.task_id.startswith("dbt.") for u in t.upstream_list)]
    assert leaves and all("gate" in t.downstream_task_ids for t in leaves)
    assert roots and all("prepare" in t.upstream_task_ids for t in roots)
