"""One Airflow DAG per endpoint of include/config/endpoints.yaml (`ingest__<source>__<endpoint>`).

Thin on purpose: the DAGs are built by game_market_pipeline.factory. Endpoints with config
problems are left out here and reported by dags/config_problems.py as an import error.
"""

from game_market_pipeline.factory.register import register_endpoint_dags

register_endpoint_dags(globals())
