"""The transform DAG `transform_warehouse`: dbt (rendered by Cosmos) from the raw staging tables
to the gold star schemas, scheduled on the staging Assets (any of them).

Thin on purpose: built by game_market_pipeline.transform.cosmos_config. Parsing it reads the
committed dbt manifest and never runs dbt.
"""

from pathlib import Path

from game_market_pipeline.promotion.tasks import PUBLISH_OPERATOR_ARGS, add_publish_tasks
from game_market_pipeline.transform.cosmos_config import build_transform_dag

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt"

dag, dbt_group = build_transform_dag(project_dir=DBT_PROJECT_DIR, operator_args=PUBLISH_OPERATOR_ARGS)
# Write-audit-publish Airflow tasks: prepare audit schema >> dbt >> checks >> gate >> promote to analytics.
add_publish_tasks(dag, dbt_group, "{{ run_id }}")
