"""Fails to import, listing every problem, when the shared endpoint config has any.

The valid endpoints' DAGs still load from ingest_endpoints.py; this file makes the broken ones
visible as an import error in the UI and in `airflow dags list-import-errors` (which CI checks).
"""

from game_market_pipeline.config.loader import load_config_cached

load_config_cached().raise_for_problems()
