"""Register built DAGs in a DAG file's globals, building only what this process needs."""

from __future__ import annotations

from typing import Any

from game_market_pipeline.config.loader import LoadedConfig, load_config_cached
from game_market_pipeline.exceptions import ConfigError
from game_market_pipeline.factory.build import build_dags

INGEST_DAG_PREFIX = "ingest__"


def register_endpoint_dags(namespace: dict[str, Any]) -> list[str]:
    """Build the endpoint DAGs into `namespace`; return their ids.

    A task process parses the file only to run one task of one DAG (the parsing context names it):
    then only that DAG is built. dags/config_problems.py is not parsed there, so a problem that
    leaves that endpoint out is raised here (ConfigError naming file, endpoint and field) and shows
    as the import error in the task's log, not as a bare "DAG not found".
    """
    from airflow.sdk import get_parsing_context

    wanted = get_parsing_context().dag_id
    loaded = load_config_cached()
    if wanted and wanted.startswith(INGEST_DAG_PREFIX):
        dags = build_dags(loaded, only_dag_id=wanted)
        if not dags:
            _raise_if_left_out(loaded, wanted)  # say why this DAG is not built
    else:
        dags = build_dags(loaded)
    namespace.update(dags)
    return list(dags)


def _raise_if_left_out(loaded: LoadedConfig, dag_id: str) -> None:
    if loaded.config is None:  # nothing loaded (the file does not parse, a file-level section is broken)
        loaded.raise_for_problems()
    for source, endpoint in loaded.left_out:
        if f"{INGEST_DAG_PREFIX}{source}__{endpoint}" == dag_id:
            raise ConfigError(loaded.problems_of(source, endpoint))
