"""Ingestion: API -> validated Parquet in S3 bronze -> Postgres staging."""

from game_market_pipeline.ingest.memory import prefer_system_arrow_pool

# Before any ingest module imports pyarrow: Arrow reads its pool choice once (see memory.py).
prefer_system_arrow_pool()
