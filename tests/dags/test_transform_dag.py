"""DAG integrity of the transform DAG (dags/transform_warehouse.py, rendered by Cosmos).

- parsing renders from the committed manifest: no dbt, no subprocess, no connection, bounded time;
- the rendered tasks are exactly what the AFTER_EACH rules make of the manifest's models and tests;
- test tasks are never retried; detached (multi-parent) tests run after all their parents;
- scheduled on the OR of the per-source staging Assets (`raw/_<source>`, which every load task emits),
  never on one Asset per endpoint; the password reaches dbt only as an env variable;
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

from game_market_pipeline.config.loader import (
    DEFAULT_CONFIG_PATH,
    load_config,
    load_config_cached,
    parse_config,
)
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


def test_scheduled_on_any_source_asset(parsed):
    dag, _, _, _ = parsed
    from airflow.sdk.definitions.asset import AssetAny

    condition = dag.timetable.asset_condition
    assert isinstance(condition, AssetAny)
    sources = {e.source for e in load_config().endpoints}
    assert len(sources) == 4
    assert [a.uri for a in condition.objects] == [
        f"postgres://warehouse:5432/warehouse/raw/_{s}" for s in ("rawg", "tcgdex", "pokemontcg", "pokeapi")]
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert {"transform", "dbt"} <= set(dag.tags) and dag.doc_md and "raw/_<source>" in dag.doc_md


def test_every_schedule_asset_is_emitted_by_the_load_tasks_of_its_source():
    """The two sides of the contract: what the transform waits for is what ingestion emits."""
    from game_market_pipeline.factory.build import build_dags

    loaded = load_config()
    emitted: dict[str, set[str]] = {}
    for dag in build_dags(loaded).values():
        source = next(t.removeprefix("source:") for t in dag.tags if t.startswith("source:"))
        emitted.setdefault(source, set()).update(o.uri for o in dag.get_task("load_to_staging").outlets)
    for asset in cosmos_config.schedule_assets(loaded):
        source = asset.uri.rsplit("/_", 1)[1]
        assert asset.uri in emitted[source]
    assert {a.uri.rsplit("/_", 1)[1] for a in cosmos_config.schedule_assets(loaded)} == set(emitted)


def test_schedule_does_not_grow_with_the_endpoint_count(tmp_path):
    """500 endpoints more: still one Asset per source. (One per endpoint made every `>>` Cosmos draws hash
    hundreds of Assets through DAG.__hash__: ~225k Asset hashes, seconds of every DagBag fill.)"""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["sources"][0]["endpoints"] += [
        {"name": f"gen_{i:03d}", "path": f"/gen{i}", "record_model": "rawg.Game"} for i in range(500)]
    loaded = parse_config(raw, tmp_path / "endpoints.yaml")
    assert loaded.problems == () and len(loaded.endpoints) >= 500
    condition = cosmos_config.transform_schedule(loaded)
    assert len(condition.objects) == 4
    assert all(a.uri.startswith("postgres://warehouse:5432/warehouse/raw/_") for a in condition.objects)


def test_source_asset_uri_is_already_canonical_for_the_postgres_provider():
    """The provider's normalizer (postgres://host:port/database/schema/table) must leave it as written."""
    from airflow.sdk import Asset

    from game_market_pipeline.assets import source_asset, source_asset_uri

    uri = source_asset_uri("rawg")
    assert uri == "postgres://warehouse:5432/warehouse/raw/_rawg"
    assert Asset(uri).uri == uri == source_asset("rawg").uri
    # A staging table is `<source>__<endpoint>` with identifiers starting with a letter: no clash.
    assert not any(e.table_name.startswith("_") for e in load_config().endpoints)


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
