"""DAG integrity: the dags/ folder imports cleanly, one DAG per configured endpoint, Airflow 3
idioms, nothing opened at parse time, parse time measured and bounded."""

from __future__ import annotations

import copy
import socket
import time
from pathlib import Path

import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config, load_config_cached

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
PARSE_BUDGET_SECONDS = 20.0  # the whole folder on a 2-core CI machine, cosmos included


def _dagbag(folder: Path = DAGS_FOLDER):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


@pytest.fixture
def no_io_at_parse(monkeypatch):
    """Any network connection, connection lookup or Variable read during parse fails the test."""
    opened = []

    def refuse_connect(self, address):
        opened.append(address)
        raise AssertionError(f"DAG parsing opened a network connection to {address}")

    def refuse(*args, **kwargs):
        opened.append(args)
        raise AssertionError("DAG parsing looked up a connection or Variable")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse_connect)
    from airflow.sdk import BaseHook, Variable

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(refuse))
    monkeypatch.setattr(Variable, "get", staticmethod(refuse))
    load_config_cached.cache_clear()
    yield opened
    load_config_cached.cache_clear()


def test_folder_imports_without_errors_and_opens_nothing(no_io_at_parse):
    started = time.perf_counter()
    bag = _dagbag()
    elapsed = time.perf_counter() - started
    print(f"\nDagBag fill of dags/: {elapsed:.2f}s for {len(bag.dags)} DAGs")
    assert bag.import_errors == {}
    assert no_io_at_parse == []
    assert elapsed < PARSE_BUDGET_SECONDS


def test_one_dag_per_configured_endpoint_with_conventions():
    bag = _dagbag()
    endpoints = load_config().endpoints
    ingest_ids = {d for d in bag.dag_ids if d.startswith("ingest__")}
    assert ingest_ids == {e.dag_id for e in endpoints}
    for endpoint in endpoints:
        dag = bag.dags[endpoint.dag_id]
        assert "ingestion" in dag.tags and f"source:{endpoint.source}" in dag.tags
        assert dag.max_active_runs == 1 and dag.catchup is False
        assert dag.doc_md and endpoint.path in dag.doc_md
        assert dag.owner == "data-platform"
        extract, load = dag.get_task("extract_to_bronze"), dag.get_task("load_to_staging")
        for task in (extract, load):
            assert task.retries >= 2 and task.retry_exponential_backoff
        assert extract.pool == f"api_{endpoint.source}"
        # The table's own Asset (lineage) and its source's Asset (what schedules the transform DAG).
        assert [o.uri for o in load.outlets] == [
            f"postgres://warehouse:5432/warehouse/raw/{endpoint.table_name}",
            f"postgres://warehouse:5432/warehouse/raw/_{endpoint.source}",
        ]
        assert extract.outlets == []
        assert load.upstream_task_ids == {"extract_to_bronze"}


def test_every_dag_has_tags_and_retries():
    bag = _dagbag()
    for dag_id, dag in bag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            # dbt test tasks are deliberately not retried (a failed test will fail again), nor is the
            # watcher's producer (a retry would not re-run dbt; each failed model's task retries it).
            if (
                not task.task_id.endswith("_test")
                and ".test" not in task.task_id
                and not task.task_id.endswith("dbt_producer_watcher")
            ):
                assert task.retries >= 2, f"{dag_id}.{task.task_id} retries={task.retries}"


def test_every_ingestion_task_alerts_through_the_configured_notifier():
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    bag = _dagbag()
    ingestion = {d: dag for d, dag in bag.dags.items() if d.startswith("ingest__")}
    assert len(ingestion) == len(load_config().endpoints)
    channel = load_config().config.quality.alerts.channel
    for dag_id, dag in ingestion.items():
        for task in dag.tasks:
            notifiers = [c for c in task.on_failure_callback or [] if isinstance(c, QualityAlertNotifier)]
            assert len(notifiers) == 1, f"{dag_id}.{task.task_id} has no ingestion alert"
            assert notifiers[0].channel == channel and "ingestion failed" in notifiers[0].subject


def test_task_process_builds_only_its_own_dag(monkeypatch):
    from game_market_pipeline.factory.register import register_endpoint_dags

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "ingest__rawg__games")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "extract_to_bronze")
    namespace: dict = {}
    started = time.perf_counter()
    assert register_endpoint_dags(namespace) == ["ingest__rawg__games"]
    print(f"\nsingle-DAG build: {time.perf_counter() - started:.3f}s")
    assert list(namespace) == ["ingest__rawg__games"]


@pytest.fixture
def task_process_config(tmp_path, monkeypatch):
    """A task process of ingest__rawg__games (parsing context set) on a config written by the test."""
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "ingest__rawg__games")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "load_to_staging")
    path = tmp_path / "endpoints.yaml"
    monkeypatch.setenv("GMP_CONFIG_PATH", str(path))
    load_config_cached.cache_clear()

    def write(raw: dict) -> None:
        path.write_text(yaml.safe_dump(raw))

    yield write
    load_config_cached.cache_clear()


def test_task_process_of_one_endpoint_builds_while_another_is_broken(task_process_config):
    """Many endpoints, one of them broken: the task process of another builds its DAG."""
    from game_market_pipeline.factory.register import register_endpoint_dags

    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    rawg = raw["sources"][0]
    rawg["endpoints"] += [
        {"name": f"gen_{i:03d}", "path": f"/gen{i}", "record_model": "rawg.Game"} for i in range(200)
    ]
    rawg["endpoints"][1]["paginator"] = {"kind": "cursorz"}  # genres: not this process's business
    task_process_config(raw)
    namespace: dict = {}
    assert register_endpoint_dags(namespace) == ["ingest__rawg__games"]
    load = namespace["ingest__rawg__games"].get_task("load_to_staging")
    assert [o.uri for o in load.outlets] == [
        "postgres://warehouse:5432/warehouse/raw/rawg__games",
        "postgres://warehouse:5432/warehouse/raw/_rawg",
    ]


def test_task_process_of_a_broken_endpoint_fails_naming_the_problem(task_process_config):
    """dags/config_problems.py is not parsed in a task process: the DAG file itself says what is wrong."""
    from game_market_pipeline.exceptions import ConfigError
    from game_market_pipeline.factory.register import register_endpoint_dags

    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["sources"][0]["endpoints"][0]["paginator"] = {"kind": "cursorz"}
    task_process_config(raw)
    with pytest.raises(ConfigError) as raised:
        register_endpoint_dags({})
    message = str(raised.value)
    assert "source 'rawg', endpoint 'games', field 'paginator'" in message and "cursorz" in message
    assert "1 problem(s)" in message


def test_task_process_of_a_dag_the_config_lacks_builds_nothing(task_process_config, monkeypatch):
    from game_market_pipeline.factory.register import register_endpoint_dags

    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["sources"][1]["endpoints"][0]["paginator"] = {"kind": "cursorz"}  # another endpoint's problem
    task_process_config(raw)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "ingest__rawg__removed")
    assert register_endpoint_dags({}) == []  # as before: the full parse, nothing matches, nothing raised


def test_bad_endpoint_is_an_import_error_but_the_rest_still_load(tmp_path, monkeypatch):
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    broken = copy.deepcopy(raw)
    broken["sources"][0]["endpoints"][0]["paginator"] = {"kind": "cursorz"}
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(broken))
    monkeypatch.setenv("GMP_CONFIG_PATH", str(path))
    load_config_cached.cache_clear()
    try:
        bag = _dagbag()
    finally:
        load_config_cached.cache_clear()
    errors = {Path(k).name: v for k, v in bag.import_errors.items()}
    assert "config_problems.py" in errors
    assert "endpoint 'games'" in errors["config_problems.py"] and "cursorz" in errors["config_problems.py"]
    ids = set(bag.dag_ids)
    assert "ingest__rawg__games" not in ids and "ingest__rawg__genres" in ids
    assert (
        len([d for d in ids if d.startswith("ingest__")])
        == len(load_config(DEFAULT_CONFIG_PATH).endpoints) - 1
    )
