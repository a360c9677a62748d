"""The "Data health" page: what an operator opens the Airflow UI for, read from the warehouse.

- `queries`: read-only SQL over ops.ingest_runs, ops.quality_results/quality_verdicts, ops.promotions,
  raw.quarantine and the write-audit-publish schema markers -> plain dataclasses (`HealthReport`);
- `render`: those dataclasses -> one server-rendered HTML page (inline SVG charts, no JavaScript);
- `app`: the FastAPI app the Airflow plugin (`plugins/data_health.py`) mounts in the API server,
  with Airflow's own authentication and the rollback action.
"""

from __future__ import annotations

from typing import Any

# Where the plugin mounts the app in the API server (the UI's navigation entry points here).
MOUNT_PREFIX = "/data-health"


class LazyHealthApp:
    """An ASGI app that builds the Data health FastAPI app on its first request.

    Airflow imports every plugin in each component (scheduler, dag-processor, every task's runner for
    macros and listeners); building the app at import would pull FastAPI and Airflow's API security
    into all of them (seconds per task start). Only the API server ever calls this.
    """

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from game_market_pipeline.health.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)
