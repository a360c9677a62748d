"""Resolve Airflow connections into the settings the ingestion needs (at task run time only).

The warehouse's own connection lives in game_market_pipeline.warehouse.connection.

- `<source>_api` (http): host = base URL with scheme and path; password = API key; optional extra
  `requests_per_second`, `burst`, `timeout_seconds` override the config (e.g. a paid key's limit).
  With no connection, the config's public base URL is used without a key.
- `lake_s3` (aws, extra endpoint_url/region_name for MinIO/moto).
Works with AIRFLOW_CONN_* environment variables and with any secrets backend.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.warehouse.connection import airflow_connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiSettings:
    base_url: str
    secret: str | None
    requests_per_second: float
    burst: int
    timeout_seconds: float

    def __repr__(self) -> str:  # never print the key
        return f"ApiSettings(base_url={self.base_url!r}, secret={'***' if self.secret else None})"


def api_settings(endpoint: ResolvedEndpoint, connection: Any | None = None) -> ApiSettings:
    conn = connection if connection is not None else airflow_connection(endpoint.connection_id)
    extra: dict[str, Any] = {}
    base_url = endpoint.base_url
    secret = None
    if conn is not None:
        extra = dict(getattr(conn, "extra_dejson", None) or {})
        host = (conn.host or "").strip()
        if host:
            if urlsplit(host).scheme:
                base_url = host
            else:
                scheme = conn.schema if conn.schema in ("http", "https") else "https"
                port = f":{conn.port}" if conn.port else ""
                base_url = f"{scheme}://{host}{port}"
        secret = conn.password or None
    else:
        log.info(
            "no connection %r: using the public default %s without a key", endpoint.connection_id, base_url
        )
    return ApiSettings(
        base_url=base_url.rstrip("/"),
        secret=secret,
        requests_per_second=float(extra.get("requests_per_second", endpoint.rate_limit.requests_per_second)),
        burst=int(extra.get("burst", endpoint.rate_limit.burst)),
        timeout_seconds=float(extra.get("timeout_seconds", endpoint.timeout_seconds)),
    )


def s3_client(conn_id: str) -> Any:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return S3Hook(aws_conn_id=conn_id).get_conn()
