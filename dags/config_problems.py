"""Fails to import, listing every problem, when the shared endpoint config has any.

The only import error a config problem causes: the valid endpoints' DAGs still load from
ingest_endpoints.py, and the transform and rollback DAGs load even when the file does not parse
(marked in their docs). This file makes the problems visible in the UI and in
`airflow dags list-import-errors` (which CI checks). See docs/CONFIG_ERRORS.md.
"""

from game_market_pipeline.config.loader import load_config_cached

load_config_cached().raise_for_problems()
