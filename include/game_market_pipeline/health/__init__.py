"""The "Data health" page: what an operator opens the Airflow UI for, read from the warehouse.

- `queries`: read-only SQL over ops.ingest_runs, ops.quality_results/quality_verdicts, ops.promotions,
  raw.quarantine and the write-audit-publish schema markers -> plain dataclasses (`HealthReport`);
- `render`: those dataclasses -> one server-rendered HTML page (inline SVG charts, no JavaScript);
- `app`: the FastAPI app the Airflow plugin (`plugins/data_health.py`) mounts in the API server,
  with Airflow's own authentication and the rollback action.
"""
