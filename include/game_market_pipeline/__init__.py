"""game-market-pipeline: config-driven ingestion, dbt warehouse and write-audit-publish on Airflow 3."""

__version__ = "0.1.0"
