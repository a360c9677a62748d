"""Airflow plugin: the "Data health" page (ingestion, quality gate, production, quarantine) in the UI.

Thin on purpose: the app, its queries and its HTML live in `game_market_pipeline.health` (unit-tested
against real Postgres). The FastAPI app is mounted in the API server at /data-health; the external
view adds a "Data health" entry to the UI's navigation that shows the page inside the UI.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from game_market_pipeline.health import MOUNT_PREFIX, LazyHealthApp


class DataHealthPlugin(AirflowPlugin):
    name = "data_health"
    # Built on the first request: every Airflow component imports plugins, only the API server serves them.
    fastapi_apps = [{"app": LazyHealthApp(), "url_prefix": MOUNT_PREFIX, "name": "Data health"}]
    external_views = [
        {
            "name": "Data health",
            # Relative (no leading slash): works under a base path / behind a proxy. The trailing slash
            # keeps the page's own relative links (rollback, ../dags/...) resolving from /data-health/.
            "href": f"{MOUNT_PREFIX.lstrip('/')}/",
            "destination": "nav",
            "url_route": "data-health",
            "nav_top_level": True,
        }
    ]
