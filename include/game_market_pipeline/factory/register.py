"""Register built DAGs in a DAG file's globals, building only what this process needs."""

from __future__ import annotations

from typing import Any

from game_market_pipeline.config.loader import load_config_cached
from game_market_pipeline.factory.build import build_dags


def register_endpoint_dags(namespace: dict[str, Any]) -> list[str]:
    from airflow.sdk import get_parsing_context

    # A task process parses the file only to run one task: build only that DAG.
    wanted = get_parsing_context().dag_id
    dags = build_dags(
        load_config_cached(), only_dag_id=wanted if wanted and wanted.startswith("ingest__") else None
    )
    namespace.update(dags)
    return list(dags)
