"""Airflow DAG `rollback_warehouse`: manual rollback of the warehouse to the previous build.

Trigger with `{"confirm": "ROLLBACK"}`; see game_market_pipeline.promotion.rollback_dag for the details.
(The words "airflow" and "dag" in this file also make Airflow's safe-mode DAG discovery parse it.)
"""

from game_market_pipeline.promotion.rollback_dag import build_rollback_dag

dag = build_rollback_dag()
