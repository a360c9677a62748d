"""DAG integrity of the transform DAG (dags/transform_warehouse.py, rendered by Cosmos).

- parsing renders from the committed manifest: no dbt, no subprocess, no connection, bounded time;
- WATCHER mode (the default): one producer task (one `dbt build`), one task per model and seed which
  starts after the build and starts/ends in the triggerer (transform.watcher); a retry re-runs one node;
- LOCAL mode (GMP_DBT_EXECUTION_MODE=local, the fallback): the tasks are exactly what the AFTER_EACH
  rules make of the manifest; test tasks are never retried; detached tests run after all their parents;
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
PRODUCER = "dbt.dbt_producer_watcher"
PRODUCER_DONE = "dbt.dbt_producer_watcher_done"


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
def local_dag():
    """The DAG in LOCAL mode (one dbt invocation per task): the fallback, GMP_DBT_EXECUTION_MODE=local."""
    dag, _ = cosmos_config.build_transform_dag(dag_id="transform_local_check", execution_mode="local")
    return dag


@pytest.fixture(scope="module")
def manifest():
    return json.loads(MANIFEST_PATH.read_text())


def expected_task_ids(manifest: dict) -> set[str]:
    """AFTER_EACH with detached multi-parent tests: a model/seed is `<name>.run|seed`, plus `<name>.test`
    when it has a test of its own (exactly one parent); a test with several parents is `<test>_test`."""
    nodes = manifest["nodes"]
    single_parent = {
        n["depends_on"]["nodes"][0]
        for n in nodes.values()
        if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) == 1
    }
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


def watcher_task_ids(manifest: dict) -> set[str]:
    """WATCHER mode: one producer (+ Cosmos' skip-absorbing gateway) and one task per model and seed."""
    verbs = {"model": "run", "seed": "seed", "snapshot": "snapshot"}
    return {
        f"dbt.{n['name']}_{verbs[n['resource_type']]}"
        for n in manifest["nodes"].values()
        if n["resource_type"] in verbs
    } | {PRODUCER, PRODUCER_DONE}


def test_watcher_renders_one_build_and_one_task_per_model(parsed, manifest):
    dag, dbt_group, _, _ = parsed
    from game_market_pipeline.transform.watcher import ModelResultWatcherOperator

    assert {t.task_id for t in dbt_tasks(dag)} == watcher_task_ids(manifest)
    models = sum(1 for n in manifest["nodes"].values() if n["resource_type"] == "model")
    assert models >= 45 and sum(isinstance(t, ModelResultWatcherOperator) for t in dag.tasks) == models
    assert len(dag.tasks) < 70  # was 149 with one task per test group (LOCAL / AFTER_EACH)
    producer = dag.get_task(PRODUCER)
    assert type(producer).__name__ == "NodeResultsProducer"
    flags = producer.add_cmd_flags()  # quiet dbt, no JSON event stream, no dbt.log in the thrown-away copy
    assert (
        "--quiet" in flags
        and "--log-format" not in flags
        and flags[flags.index("--log-level-file") + 1] == "none"
    )
    assert producer.upstream_task_ids == {"prepare_audit_schema"}
    assert producer.retries == 0  # never re-runs dbt; a failed node's own task retries it
    assert "--resource-type" not in (producer.dbt_cmd_flags or [])  # the one build runs every test too
    assert Path(producer.dbt_executable_path) == Path(sys.executable).parent / "dbt"
    assert producer.install_deps is False and Path(producer.project_dir) == DAG_FILE.parents[1] / "dbt"


def test_watcher_node_tasks_start_after_the_build_and_follow_the_refs(parsed):
    dag, _, _, _ = parsed
    from airflow.sdk import TriggerRule

    nodes = [t for t in dbt_tasks(dag) if t.task_id not in (PRODUCER, PRODUCER_DONE)]
    roots = [t for t in nodes if PRODUCER in t.upstream_task_ids]
    assert roots and all(t.trigger_rule == TriggerRule.ONE_DONE for t in roots)  # after a failed build too
    assert all(t.upstream_task_ids <= {x.task_id for x in nodes} for t in nodes if t not in roots)
    assert all(t.upstream_task_ids == {PRODUCER} for t in roots)
    fact = dag.get_task("dbt.fact_tcg_card_prices_run")
    assert {
        "dbt.stg_tcgdex__card_versions_run",
        "dbt.stg_pokemontcg__card_versions_run",
        "dbt.tcg_price_variants_seed",
    } <= fact.upstream_task_ids


def test_watcher_model_task_carries_its_tests_and_retries_alone(parsed, manifest):
    dag, _, _, _ = parsed
    tested = {n["depends_on"]["nodes"][0] for n in manifest["nodes"].values() if n["resource_type"] == "test"}
    fact = dag.get_task("dbt.fact_games_run")
    assert fact.has_tests is ("model.game_market.fact_games" in tested) is True
    assert fact.retries == load_config().config.dag_defaults.retries
    assert fact.base_cmd == ["build"]  # a retry: `dbt build --select fact_games` (the model and its tests)
    assert all(
        dag.get_task(f"dbt.{n['name']}_run").has_tests is (uid in tested)
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "model"
    )


def test_watcher_node_tasks_start_and_end_in_the_triggerer(parsed):
    """No worker (no pod under the KubernetesExecutor) for a node task; the serialized DAG keeps that."""
    dag, _, _, _ = parsed
    from airflow.serialization.serialized_objects import DagSerialization

    from game_market_pipeline.transform.watcher import END_TRIGGER_PATH

    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    task = scheduler_dag.get_task("dbt.fact_games_run")
    assert task.start_from_trigger is True
    assert task.start_trigger_args.trigger_cls == END_TRIGGER_PATH
    assert task.start_trigger_args.next_method == "execute_complete"
    kwargs = task.start_trigger_args.trigger_kwargs
    kwargs = kwargs.get("__var", kwargs)
    assert "run_id" not in kwargs and not task.template_fields  # the trigger reads its task instance's run
    assert (kwargs["model_unique_id"], kwargs["producer_task_id"], kwargs["has_tests"]) == (
        "model.game_market.fact_games",
        PRODUCER,
        True,
    )
    assert scheduler_dag.get_task(PRODUCER).start_from_trigger is False


def test_local_mode_renders_the_after_each_tasks_of_the_manifest(local_dag, manifest):
    dag = local_dag
    expected = expected_task_ids(manifest)
    assert {t.task_id for t in dbt_tasks(dag)} == expected
    assert all(t.task_group.group_id.startswith("dbt") for t in dbt_tasks(dag))
    nodes = manifest["nodes"].values()
    models = sum(1 for n in nodes if n["resource_type"] == "model")
    detached = sum(1 for n in nodes if n["resource_type"] == "test" and len(n["depends_on"]["nodes"]) > 1)
    print(
        f"\n{len(expected)} dbt tasks: {models} models, {detached} detached tests, "
        f"{sum(1 for n in nodes if n['resource_type'] == 'test')} dbt tests in the manifest"
    )
    assert models >= 45 and detached >= 20


def test_local_mode_runs_every_models_tests_and_unit_tests_right_after_it(local_dag, manifest):
    dag = local_dag
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        test_task = dag.task_dict.get(f"dbt.{node['name']}.test")
        assert test_task is not None, f"{uid} has no test task"
        assert test_task.upstream_task_ids == {f"dbt.{node['name']}.run"}
    # unit tests run in their model's test task (`dbt test --select <model>`)
    for unit_test in manifest["unit_tests"].values():
        assert f"dbt.{unit_test['model']}.test" in dag.task_dict


def test_local_mode_test_tasks_are_not_retried_and_run_tasks_are(local_dag):
    dag = local_dag
    tests = [t for t in dbt_tasks(dag) if t.task_id.endswith((".test", "_test"))]
    others = [t for t in dbt_tasks(dag) if t not in tests]
    assert tests and others
    assert {t.retries for t in tests} == {0}
    assert {t.retries for t in others} == {load_config().config.dag_defaults.retries}


def test_local_mode_detached_tests_run_after_all_their_parents(local_dag, manifest):
    dag = local_dag
    names = {uid: node["name"] for uid, node in manifest["nodes"].items()}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or len(node["depends_on"]["nodes"]) < 2:
            continue
        task = dag.get_task(f"dbt.{node['name']}_test")
        upstream = task.upstream_task_ids
        for parent in node["depends_on"]["nodes"]:
            assert f"dbt.{names[parent]}.test" in upstream or f"dbt.{names[parent]}.run" in upstream, (
                task.task_id,
                parent,
            )


def test_local_mode_model_dependencies_follow_the_refs(local_dag, manifest):
    dag = local_dag
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
        f"postgres://warehouse:5432/warehouse/raw/_{s}" for s in ("rawg", "tcgdex", "pokemontcg", "pokeapi")
    ]
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
        {"name": f"gen_{i:03d}", "path": f"/gen{i}", "record_model": "rawg.Game"} for i in range(500)
    ]
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


def test_local_mode_runs_the_venvs_dbt_without_packages(local_dag):
    dag = local_dag
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

    profile = dag.get_task(PRODUCER).profile_config
    assert isinstance(profile.profile_mapping, PostgresUserPasswordProfileMapping)
    assert profile.profile_mapping.conn_id == "warehouse_db"
    assert profile.profile_mapping.profile_args["schema"] == cosmos_config.target_schema()
    monkeypatch.setenv("GMP_DBT_SCHEMA", "analytics_green")
    assert cosmos_config.profile_config().profile_mapping.profile_args["schema"] == "analytics_green"
    assert (
        cosmos_config.profile_config("analytics_blue").profile_mapping.profile_args["schema"]
        == "analytics_blue"
    )


def test_password_reaches_dbt_only_as_an_environment_variable(monkeypatch):
    secret = "s3cret-Pa55-not-in-files"
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_DB",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "db.internal",
                "port": 5432,
                "login": "dbt",
                "password": secret,
                "schema": "warehouse",
            }
        ),
    )
    profile = cosmos_config.profile_config("analytics_audit")
    contents = profile.profile_mapping.get_profile_file_contents("game_market", "airflow")
    assert secret not in contents
    output = yaml.safe_load(contents)["game_market"]["outputs"]["airflow"]
    assert output["password"] == "{{ env_var('COSMOS_CONN_POSTGRES_PASSWORD') }}"
    assert (output["schema"], output["host"], output["dbname"]) == (
        "analytics_audit",
        "db.internal",
        "warehouse",
    )
    assert profile.profile_mapping.env_vars == {"COSMOS_CONN_POSTGRES_PASSWORD": secret}


def test_a_connection_without_password_still_maps(monkeypatch):
    """The local stack's Postgres uses trust authentication: its connection has no password."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_DB",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": 5432,
                "login": "postgres",
                "schema": "postgres",
            }
        ),
    )
    profile = cosmos_config.profile_config("analytics_audit")
    assert profile.profile_mapping.env_vars == {"COSMOS_CONN_POSTGRES_PASSWORD": ""}


def test_gate_tasks_can_follow_the_dbt_group():
    """The hook for write-audit-publish: tasks appended after the returned task group run after every dbt task."""
    from airflow.providers.standard.operators.empty import EmptyOperator

    dag, dbt_group = cosmos_config.build_transform_dag(
        dag_id="transform_hook_check", schema="analytics_audit"
    )
    assert dbt_group.group_id == cosmos_config.DBT_TASK_GROUP_ID
    prepare = EmptyOperator(task_id="prepare", dag=dag)
    gate = EmptyOperator(task_id="gate", dag=dag)
    prepare >> dbt_group >> gate
    group_tasks = dbt_tasks(dag)
    leaves = [t for t in group_tasks if not any(d.task_id.startswith("dbt.") for d in t.downstream_list)]
    roots = [t for t in group_tasks if not any(u.task_id.startswith("dbt.") for u in t.upstream_list)]
    assert leaves and all("gate" in t.downstream_task_ids for t in leaves)
    assert roots and all("prepare" in t.upstream_task_ids for t in roots)


# --- the watcher's triggerer side and producer filter (transform.watcher), without Airflow running ---


def _end_events(
    document: dict | None, producer_state: str, try_number: int = 1, has_tests: bool = True
) -> list:
    """Every event NodeResultsTrigger yields when the producer's results document and state are as given."""
    import asyncio
    from types import SimpleNamespace

    from game_market_pipeline.transform.node_results import NODE_RESULTS_XCOM_KEY
    from game_market_pipeline.transform.watcher import NodeResultsTrigger

    reads: list[str] = []

    class Reader:
        async def get_xcom_val(self, key):
            reads.append(key)
            return document if key == NODE_RESULTS_XCOM_KEY else None

        async def _get_producer_task_status(self):
            return producer_state

    trigger = NodeResultsTrigger(
        model_unique_id=FACT,
        producer_task_id=PRODUCER,
        dag_id="transform_warehouse",
        poke_interval=0.01,
        has_tests=has_tests,
    )
    trigger._reader = Reader
    trigger._task_instance = SimpleNamespace(try_number=try_number, run_id="r1")

    async def collect():
        return [event async for event in trigger.run()]

    events = asyncio.run(collect())
    assert set(reads) <= {NODE_RESULTS_XCOM_KEY}  # one document, no per-node keys
    return events


FACT = "model.game_market.fact_games"


def _document(status: str | None, tests: str | None = None, done: bool = True) -> dict:
    return {"done": done, "nodes": {FACT: status} if status else {}, "tests": {FACT: tests} if tests else {}}


def test_end_trigger_ends_the_task_in_the_triggerer():
    from airflow.triggers.base import TaskFailedEvent, TaskSuccessEvent, TriggerEvent

    [event] = _end_events(_document("success", "pass"), "success")
    assert isinstance(event, TaskSuccessEvent)
    [event] = _end_events(_document("error"), "failed")
    assert isinstance(event, TaskFailedEvent)  # the model failed: Airflow routes it to its retry
    [event] = _end_events(
        _document("success", "fail"), "failed"
    )  # tests failed: the worker fails it, no retry
    assert type(event) is TriggerEvent and event.payload["verdict"] == "tests_failed"
    [event] = _end_events(_document("success"), "failed")  # the build stopped before the model's tests ran
    assert isinstance(event, TaskFailedEvent)
    [event] = _end_events(_document(None), "failed")  # no result for it (dbt stopped early): retried
    assert isinstance(event, TaskFailedEvent)
    [event] = _end_events(_document("success", done=False), "failed")  # producer killed before its last push
    assert isinstance(event, TaskFailedEvent)
    [event] = _end_events(_document("success"), "success", has_tests=False)
    assert isinstance(event, TaskSuccessEvent)


def test_end_trigger_sends_a_retry_back_to_a_worker():
    from airflow.triggers.base import TriggerEvent

    [event] = _end_events(_document("error"), "failed", try_number=2)
    assert (
        type(event) is TriggerEvent and event.payload["verdict"] == "retry_on_worker"
    )  # -> dbt build --select


def test_end_trigger_serializes_to_itself():
    from game_market_pipeline.transform.watcher import END_TRIGGER_PATH, NodeResultsTrigger

    trigger = NodeResultsTrigger(
        model_unique_id="model.game_market.dim_date", producer_task_id=PRODUCER, dag_id="d", has_tests=True
    )
    path, kwargs = trigger.serialize()
    assert path == END_TRIGGER_PATH and kwargs["has_tests"] is True and kwargs["run_id"] is None
    assert NodeResultsTrigger(**kwargs).serialize() == (path, kwargs)


def _node_finished(unique_id: str, status: str, name: str = "NodeFinished"):
    from types import SimpleNamespace

    return SimpleNamespace(
        info=SimpleNamespace(name=name),
        data=SimpleNamespace(node_info=SimpleNamespace(unique_id=unique_id, node_status=status)),
    )


def test_producer_pushes_one_results_document_per_checkpoint(parsed):
    """dbt's events -> NodeResults; an XCom only at a checkpoint (here: every event) and at the end."""
    import time
    from types import SimpleNamespace

    from cosmos import settings

    from game_market_pipeline.transform.node_results import NODE_RESULTS_XCOM_KEY, NodeResults

    dag, _, _, _ = parsed
    producer = dag.get_task(PRODUCER)
    pushes: list[tuple[str, dict]] = []
    producer._ti = SimpleNamespace(xcom_push=lambda key, value: pushes.append((key, value)))
    producer._results = NodeResults({FACT: ["test.game_market.unique_fact_games"]})
    producer.checkpoint_seconds = 3600.0
    producer._last_push = time.monotonic() - 3601.0
    producer._on_dbt_event(_node_finished(FACT, "success", name="NodeStart"))  # not a finished node: ignored
    producer._on_dbt_event(_node_finished(FACT, "success"))
    producer._on_dbt_event(_node_finished("test.game_market.unique_fact_games", "pass"))
    assert len(pushes) == 1  # the first finished node after a long silence: one checkpoint, then none for 1 h
    producer._push(done=True)
    key, document = pushes[-1]
    assert key == NODE_RESULTS_XCOM_KEY
    assert document == {"done": True, "nodes": {FACT: "success"}, "tests": {FACT: "pass"}}
    producer._on_dbt_event(object())  # a malformed event never raises into dbt
    assert settings.enable_watcher_reliable_retry is False  # no Variable backup of the producer's XComs
    del producer.checkpoint_seconds  # the module's DAG is shared by the other tests


def test_node_results_blame_a_model_for_its_failed_tests_not_for_tests_skipped_by_another_parent():
    from game_market_pipeline.transform.node_results import NodeResults, Verdict, judge

    bridge = "model.game_market.bridge_game_genre"
    fk = "test.game_market.relationships_bridge_game_genre_game_key__fact_games"
    results = NodeResults(
        {bridge: ["test.game_market.not_null_bridge", fk], FACT: ["test.game_market.unique_fact_games", fk]}
    )
    results.record(bridge, "success")
    results.record("test.game_market.not_null_bridge", "pass")
    assert judge(results.document(done=False), bridge, True) is Verdict.PENDING  # its fk test not reported
    assert judge(results.document(done=True), bridge, True) is Verdict.TESTS_MISSING
    results.record(FACT, "error")
    results.record(fk, "skipped")  # fact_games failed: dbt skipped the test both models share
    results.record("test.game_market.unique_fact_games", "skipped")
    document = results.document(done=True)
    assert judge(document, bridge, True) is Verdict.SUCCESS
    assert judge(document, FACT, True) is Verdict.NODE_FAILED
    results.record("test.game_market.unique_fact_games", "fail")
    results.record(FACT, "success")  # (a model that built but whose test failed)
    assert judge(results.document(done=True), FACT, True) is Verdict.TESTS_FAILED
    assert judge(results.document(done=True), "model.game_market.never_built", False) is Verdict.NOT_RUN
    assert judge(None, FACT, True) is Verdict.PENDING


def test_build_schema_and_ops_schema_come_from_the_config(tmp_path, monkeypatch):
    """No schema name in transform/: the audit schema and the callback's ops schema are the config's."""
    import yaml

    from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config

    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    config["warehouse"]["ops_schema"] = "ops_blue"
    config["warehouse"]["audit_schema"] = "analytics_blue_audit"
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    loaded = load_config(path)
    monkeypatch.delenv("GMP_DBT_SCHEMA", raising=False)
    dag, _ = cosmos_config.build_transform_dag(loaded_config=loaded, operator_args={"callback": "x.y"})
    producer = dag.get_task(PRODUCER)
    assert producer.profile_config.profile_mapping.profile_args["schema"] == "analytics_blue_audit"
    assert producer.callback_args == {"ops_schema": "ops_blue", "conn_id": "warehouse_db"}
    monkeypatch.setenv("GMP_DBT_SCHEMA", "analytics_green")  # a deployment's override still wins
    assert cosmos_config.target_schema(loaded=loaded) == "analytics_green"
    source = "\n".join(
        f.read_text()
        for f in (DAG_FILE.parents[1] / "include" / "game_market_pipeline" / "transform").glob("*.py")
        if f.name != "run_dbt.py"
    )
    assert "analytics_audit" not in source and '"ops"' not in source


def test_the_schedule_listens_where_the_ingest_dags_emit_under_a_configured_raw_schema(tmp_path):
    from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config
    from game_market_pipeline.factory.build import build_dags

    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    config["warehouse"]["raw_schema"] = "landing"
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    loaded = load_config(path)
    emitted = {o.uri for dag in build_dags(loaded).values() for task in dag.tasks for o in task.outlets}
    listened = {asset.uri for asset in cosmos_config.schedule_assets(loaded)}
    assert listened and all("/landing/_" in uri for uri in listened), listened
    assert listened <= emitted, listened - emitted


def test_execution_mode_and_threads_are_checked(monkeypatch):
    monkeypatch.setenv("GMP_DBT_EXECUTION_MODE", "Kubernetes")
    with pytest.raises(ValueError, match="GMP_DBT_EXECUTION_MODE='kubernetes'"):
        cosmos_config.execution_mode_name()
    monkeypatch.setenv("GMP_DBT_EXECUTION_MODE", "LOCAL")
    assert cosmos_config.execution_mode_name() == "local"
    monkeypatch.setenv("GMP_DBT_THREADS", "zero")
    with pytest.raises(ValueError, match="GMP_DBT_THREADS='zero'"):
        cosmos_config.dbt_threads()
    monkeypatch.setenv("GMP_DBT_THREADS", "8")
    assert cosmos_config.profile_config().profile_mapping.profile_args["threads"] == 8


def test_producer_resources_are_checked(monkeypatch):
    assert cosmos_config.producer_pod_override("") == {}
    with pytest.raises(ValueError, match="GMP_DBT_PRODUCER_RESOURCES: expected an object"):
        cosmos_config.producer_pod_override('{"cpu": "2"}')
    with pytest.raises(ValueError, match="GMP_DBT_PRODUCER_RESOURCES"):
        cosmos_config.producer_pod_override("cpu=2")
