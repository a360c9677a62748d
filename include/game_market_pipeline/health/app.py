"""The FastAPI app behind the Data health page, mounted in Airflow's API server by `plugins/data_health.py`.

Authentication and authorization are Airflow's own: the user comes from the same JWT the UI uses (the
`_token` cookie, or an `Authorization: Bearer` header) and the configured auth manager decides.
- `GET /`: the page; needs read access to DAG runs. Anonymous requests get 401.
- `GET /rollback`: the confirmation step (what production serves, what it would serve).
- `POST /rollback`: triggers the `rollback_warehouse` DAG through Airflow's REST API *with the user's
  own token*, so the REST API applies the user's permissions once more; a user who may not trigger
  that DAG (e.g. a viewer) is refused before anything is sent.
Nothing about connections is rendered: a warehouse that cannot be reached shows a generic message.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import HTMLResponse

from game_market_pipeline.health import MOUNT_PREFIX
from game_market_pipeline.health.queries import (
    EndpointSpec,
    HealthReport,
    HealthSettings,
    SourceBudget,
    collect,
)
from game_market_pipeline.health.render import (
    ROLLBACK_DAG_ID,
    UiLinks,
    page,
    render_health_page,
    render_rollback_confirmation,
    render_rollback_result,
)

if TYPE_CHECKING:
    # The auth manager's method type (a Literal for type checkers, an Enum at run time).
    from airflow.api_fastapi.auth.managers.base_auth_manager import ResourceMethod

log = logging.getLogger(__name__)

# Where the plugin reaches Airflow's REST API to trigger the rollback; default: the address the user's
# request came in on. Set it where the API server cannot reach its own public URL (a proxy in front).
API_URL_ENV = "GMP_AIRFLOW_API_URL"
REST_TIMEOUT_SECONDS = 15.0


class WarehouseUnavailable(Exception):
    """The warehouse could not be read; the message is safe to show (no host, no credentials)."""


def _user_dependency() -> Any:
    # Imported lazily: the module stays importable (and its rendering testable) without an API server.
    from airflow.api_fastapi.core_api.security import get_user

    return Depends(get_user)


def _is_authorized(user: Any, method: ResourceMethod, dag_id: str | None) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return get_auth_manager().is_authorized_dag(
        method=method,
        access_entity=DagAccessEntity.RUN,
        details=DagDetails(id=dag_id) if dag_id else None,
        user=user,
    )


def _require_read(user: Any) -> None:
    if not _is_authorized(user, "GET", None):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Data health needs read access to DAG runs")


def load_settings() -> tuple[list[EndpointSpec], HealthSettings, str]:
    """Endpoints, schema names and the warehouse connection id from the pipeline's config."""
    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.promotion.tasks import default_audit_schema
    from game_market_pipeline.warehouse.schemas import WarehouseSchemas

    loaded = load_config_cached()
    config = loaded.config
    if config is None:
        raise WarehouseUnavailable("the pipeline config has problems; see the config_problems DAG")
    specs = [EndpointSpec(e.source, e.name, e.dag_id, e.schedule) for e in loaded.endpoints]
    budgets = tuple(
        SourceBudget(source.name, source.budget.calls_per_day, source.budget.calls_per_month)
        for source in config.sources
        if source.budget is not None
    )
    # The audit schema as the build's tasks resolve it ($GMP_DBT_SCHEMA first).
    schemas = replace(WarehouseSchemas.from_config(config), audit=default_audit_schema(config.warehouse))
    settings = HealthSettings(schemas=schemas, budgets=budgets)
    return specs, settings, config.warehouse.connection_id


def _connect_warehouse(conn_id: str) -> Any:
    """A psycopg2 connection from the Airflow connection, resolved the API server's way."""
    from airflow.models.connection import Connection

    from game_market_pipeline.warehouse.connection import connect_with

    try:
        conn = Connection.get_connection_from_secrets(conn_id)
        # The page must answer quickly when the warehouse is away: a short timeout unless the extra sets one.
        return connect_with(conn, connect_timeout=5, application_name="gmp-data-health")
    except Exception as err:
        # The driver's message names host and port: log it for the operator, show only the connection id.
        log.warning("data health: cannot open the warehouse connection %r: %s", conn_id, type(err).__name__)
        log.debug("data health: connection error detail", exc_info=True)
        raise WarehouseUnavailable(
            f"the warehouse connection {conn_id!r} could not be opened (details in the API server's log)"
        ) from None


def read_report() -> HealthReport:
    specs, settings, conn_id = load_settings()
    conn = _connect_warehouse(conn_id)
    try:
        return collect(conn, specs, settings)
    finally:
        conn.close()


def _unavailable(err: WarehouseUnavailable) -> HTMLResponse:
    from html import escape

    body = f'<h1>Data health</h1><div class="box">Cannot read the warehouse: {escape(str(err))}</div>'
    return HTMLResponse(page("Data health", body), status_code=status.HTTP_503_SERVICE_UNAVAILABLE)


def _airflow_base_url(request: Request) -> str:
    configured = os.environ.get(API_URL_ENV)
    if configured:
        return configured.rstrip("/")
    base = str(request.base_url).rstrip("/")
    return base[: -len(MOUNT_PREFIX)] if base.endswith(MOUNT_PREFIX) else base


def _user_token(request: Request) -> str | None:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN)


def _same_origin(request: Request) -> bool:
    """Refuse cross-site form posts: the cookie is SameSite=Lax, and this checks the Origin as well.

    A proxy may hand the API server its own Host and the public one in X-Forwarded-Host: either matches.
    """
    origin = request.headers.get("origin")
    if origin is None:  # not a browser's cross-origin request (browsers send Origin on POST)
        return True
    hosts = {request.headers.get("host", "")}
    forwarded = request.headers.get("x-forwarded-host")
    if forwarded:
        hosts.add(forwarded.split(",")[0].strip())
    return origin != "null" and urlsplit(origin).netloc in hosts


async def trigger_rollback(
    api_url: str, token: str, expected_build_id: str, reason: str, confirmation: str, user_name: str
) -> tuple[bool, str, str | None]:
    """POST the rollback DAG run to Airflow's REST API as the user; unpause the (manual-only) DAG first."""
    import httpx

    try:
        return await _trigger_rollback(api_url, token, expected_build_id, reason, confirmation, user_name)
    except httpx.HTTPError as err:
        log.warning("data health: Airflow's REST API at %s did not answer: %s", api_url, type(err).__name__)
        return False, f"Airflow's REST API did not answer ({type(err).__name__}); see {API_URL_ENV}", None


async def _trigger_rollback(
    api_url: str, token: str, expected_build_id: str, reason: str, confirmation: str, user_name: str
) -> tuple[bool, str, str | None]:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    dag_url = f"{api_url}/api/v2/dags/{ROLLBACK_DAG_ID}"
    notes = []
    async with httpx.AsyncClient(timeout=REST_TIMEOUT_SECONDS, headers=headers, trust_env=False) as client:
        dag = await client.get(dag_url)
        if dag.status_code != 200:
            return False, f"Airflow refused to read {ROLLBACK_DAG_ID}: {_api_error(dag)}", None
        if dag.json().get("is_paused"):
            # schedule=None: unpausing only lets triggered runs start; it schedules nothing by itself.
            unpaused = await client.patch(dag_url, json={"is_paused": False})
            if unpaused.status_code != 200:
                return (
                    False,
                    f"{ROLLBACK_DAG_ID} is paused and Airflow refused to unpause it: {_api_error(unpaused)}",
                    None,
                )
            notes.append(f"{ROLLBACK_DAG_ID} was paused and has been unpaused.")
        run = await client.post(
            f"{dag_url}/dagRuns",
            json={
                "logical_date": None,
                "conf": {"confirm": confirmation, "expected_build_id": expected_build_id, "reason": reason},
                "note": f"Triggered from Data health by {user_name}" + (f": {reason}" if reason else ""),
            },
        )
    if run.status_code not in (200, 201):
        return False, f"Airflow refused to trigger {ROLLBACK_DAG_ID}: {_api_error(run)}", None
    run_id = run.json().get("dag_run_id")
    message = f"Rollback to build {expected_build_id} triggered; production changes once the run finishes."
    return True, " ".join([message, *notes]), run_id


def _api_error(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return f"HTTP {response.status_code}" + (f" ({detail})" if isinstance(detail, str) else "")


def create_app() -> FastAPI:
    from game_market_pipeline.promotion.rollback_dag import CONFIRMATION

    app = FastAPI(title="Data health", docs_url=None, redoc_url=None, openapi_url=None)
    links = UiLinks("../")
    user_dep = _user_dependency()

    @app.get("/", response_class=HTMLResponse)
    async def health_page(user: Any = user_dep) -> HTMLResponse:
        _require_read(user)
        try:
            report = await asyncio.to_thread(read_report)
        except WarehouseUnavailable as err:
            return _unavailable(err)
        allowed = _is_authorized(user, "POST", ROLLBACK_DAG_ID)
        return HTMLResponse(render_health_page(report, links, rollback_allowed=allowed))

    @app.get("/rollback", response_class=HTMLResponse)
    async def rollback_confirmation(user: Any = user_dep) -> HTMLResponse:
        _require_read(user)
        if not _is_authorized(user, "POST", ROLLBACK_DAG_ID):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role may not trigger {ROLLBACK_DAG_ID}")
        try:
            report = await asyncio.to_thread(read_report)
        except WarehouseUnavailable as err:
            return _unavailable(err)
        return HTMLResponse(render_rollback_confirmation(report.production, links, CONFIRMATION))

    @app.post("/rollback", response_class=HTMLResponse)
    async def rollback(request: Request, user: Any = user_dep) -> HTMLResponse:
        if not _same_origin(request):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
        if not _is_authorized(user, "POST", ROLLBACK_DAG_ID):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"your role may not trigger {ROLLBACK_DAG_ID}")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        expected = form.get("expected_build_id", "").strip()
        if form.get("confirm", "").strip() != CONFIRMATION:
            html = render_rollback_result(
                False, f"Not confirmed (type {CONFIRMATION}); nothing was triggered.", links
            )
            return HTMLResponse(html, status_code=status.HTTP_400_BAD_REQUEST)
        token = _user_token(request)
        if not token:  # get_user accepted the request, so this cannot happen short of a new auth scheme
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no token to act with")
        ok, message, run_id = await trigger_rollback(
            _airflow_base_url(request),
            token,
            expected,
            form.get("reason", "").strip()[:500],
            CONFIRMATION,
            getattr(user, "get_name", lambda: "a user")(),
        )
        html = render_rollback_result(ok, message, links, run_id)
        return HTMLResponse(html, status_code=status.HTTP_200_OK if ok else status.HTTP_502_BAD_GATEWAY)

    return app
