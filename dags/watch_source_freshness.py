"""Airflow DAG `watch_source_freshness`: daily, one alert listing the endpoints whose data is late.

Built by game_market_pipeline.quality.source_freshness (the Data health page's freshness rule).
(The words "airflow" and "dag" in this file also make Airflow's safe-mode DAG discovery parse it.)
"""

from game_market_pipeline.quality.source_freshness import build_freshness_dag

dag = build_freshness_dag()
