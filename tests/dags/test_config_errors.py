"""Config errors stay local (docs/CONFIG_ERRORS.md): the real dags/ folder parsed by a DagBag on a
broken config written by the test (GMP_CONFIG_PATH), asserting which DAGs load and which import
errors appear.

- a broken endpoint drops only its own DAG; a broken source only that source's DAGs; a duplicated
  endpoint name only the DAGs of that name;
- a file that does not parse leaves exactly one import error (dags/config_problems.py) naming the file
  and the line, and the transform and rollback DAGs still load, marking what is missing;
- the transform DAG loads when the quality config names a dropped staging table (skipped, marked).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config, load_config_cached

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
TRANSFORM = "transform_warehouse"
ROLLBACK = "rollback_warehouse"
FRESHNESS = "watch_source_freshness"


@pytest.fixture(scope="module")
def shipped_ingest_ids() -> set[str]:
    return {e.dag_id for e in load_config(DEFAULT_CONFIG_PATH).endpoints}


@pytest.fixture
def dagbag_on(tmp_path, monkeypatch):
    """Write `text` as the config, point the DAG files at it, parse dags/: (bag, {file name: error})."""

    def parse(text: str):
        from airflow.dag_processing.dagbag import DagBag

        path = tmp_path / "endpoints.yaml"
        path.write_text(text)
        monkeypatch.setenv("GMP_CONFIG_PATH", str(path))
        load_config_cached.cache_clear()
        try:
            bag = DagBag(dag_folder=str(DAGS_FOLDER))
        finally:
            load_config_cached.cache_clear()
        return bag, {Path(file).name: error for file, error in bag.import_errors.items()}

    return parse


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def _ingest_ids(bag) -> set[str]:
    return {d for d in bag.dag_ids if d.startswith("ingest__")}


def test_a_broken_endpoint_drops_only_its_own_dag(dagbag_on, shipped_ingest_ids):
    raw = _raw()
    raw["sources"][0]["endpoints"][0]["paginator"] = {"kind": "cursorz"}  # rawg.games
    bag, errors = dagbag_on(yaml.safe_dump(raw))
    assert _ingest_ids(bag) == shipped_ingest_ids - {"ingest__rawg__games"}
    assert list(errors) == ["config_problems.py"]
    assert "source 'rawg', endpoint 'games', field 'paginator'" in errors["config_problems.py"]
    # The quality config still names raw.rawg__games: skipped and marked, not an import error.
    assert {TRANSFORM, ROLLBACK, FRESHNESS} <= set(bag.dag_ids)
    transform = bag.dags[TRANSFORM]
    assert "`ingest__rawg__games` not loaded" in transform.doc_md
    assert "quality.staging.rawg__games': checks skipped" in transform.doc_md
    gate = transform.get_task("quality_gate")
    assert not any(c.startswith("raw.rawg__games.") for c in gate.expected_check_ids)
    assert any(c.startswith("raw.rawg__genres.") for c in gate.expected_check_ids)


def test_a_broken_source_drops_only_that_sources_dags(dagbag_on, shipped_ingest_ids):
    raw = _raw()
    raw["sources"][0]["defaults"]["quarantine_threshold"] = 7  # rawg's defaults
    bag, errors = dagbag_on(yaml.safe_dump(raw))
    rawg = {d for d in shipped_ingest_ids if d.startswith("ingest__rawg__")}
    assert rawg and _ingest_ids(bag) == shipped_ingest_ids - rawg
    assert {TRANSFORM, ROLLBACK, FRESHNESS} <= set(bag.dag_ids)
    assert list(errors) == ["config_problems.py"]
    assert "source 'rawg', field 'defaults.quarantine_threshold'" in errors["config_problems.py"]
    assert "1 problem(s)" in errors["config_problems.py"]
    assert all(f"`{dag_id}` not loaded" in bag.dags[TRANSFORM].doc_md for dag_id in rawg)


def test_a_duplicate_endpoint_name_drops_only_the_duplicates(dagbag_on, shipped_ingest_ids):
    raw = _raw()
    pokeapi = raw["sources"][3]["endpoints"]
    pokeapi.append({**pokeapi[0], "path": "/pokemon-again"})
    bag, errors = dagbag_on(yaml.safe_dump(raw))
    duplicated = f"ingest__pokeapi__{pokeapi[0]['name']}"
    assert _ingest_ids(bag) == shipped_ingest_ids - {duplicated}
    assert {TRANSFORM, ROLLBACK, FRESHNESS} <= set(bag.dag_ids)
    assert list(errors) == ["config_problems.py"]
    assert (
        f"duplicate endpoint name '{pokeapi[0]['name']}': used 2 times in source 'pokeapi' "
        f"(entries #0, #{len(pokeapi) - 1}" in errors["config_problems.py"]
    )


def test_a_file_that_does_not_parse_is_one_import_error_and_transform_and_rollback_still_load(dagbag_on):
    lines = DEFAULT_CONFIG_PATH.read_text().splitlines()
    broken = next(i for i, line in enumerate(lines) if line.startswith("sources:"))
    lines.insert(broken + 1, "  - name: [unclosed")  # line broken + 2 (1-based)
    from airflow.sdk.definitions.timetables.simple import NullTimetable

    bag, errors = dagbag_on("\n".join(lines) + "\n")
    assert list(errors) == ["config_problems.py"]
    error = errors["config_problems.py"]
    assert "1 problem(s)" in error and "field '<yaml>': the file does not parse as YAML: line " in error
    assert "endpoints.yaml" in error
    line = int(error.split("YAML: line ")[1].split(",")[0])
    assert broken + 2 <= line <= broken + 3, error
    assert _ingest_ids(bag) == set()
    assert set(bag.dag_ids) == {TRANSFORM, ROLLBACK, FRESHNESS}
    for dag_id in (TRANSFORM, ROLLBACK):
        assert "the pipeline config did not load" in bag.dags[dag_id].doc_md
    assert isinstance(bag.dags[TRANSFORM].timetable, NullTimetable)  # no staging Asset to schedule on


def test_task_process_of_a_duplicated_endpoint_fails_naming_the_duplicate(tmp_path, monkeypatch):
    """A task process of a dropped DAG says why, not a bare "DAG not found"."""
    from game_market_pipeline.exceptions import ConfigError
    from game_market_pipeline.factory.register import register_endpoint_dags

    raw = _raw()
    rawg = raw["sources"][0]["endpoints"]
    rawg.append({**rawg[1], "path": "/genres-again"})
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("GMP_CONFIG_PATH", str(path))
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "ingest__rawg__genres")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "extract_to_bronze")
    load_config_cached.cache_clear()
    try:
        with pytest.raises(ConfigError) as raised:
            register_endpoint_dags({})
        monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "ingest__rawg__platforms")
        assert register_endpoint_dags({}) == ["ingest__rawg__platforms"]  # the others still build
    finally:
        load_config_cached.cache_clear()
    message = str(raised.value)
    assert "1 problem(s)" in message and "endpoint 'genres', field 'name': duplicate endpoint name" in message
