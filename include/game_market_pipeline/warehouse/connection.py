"""Connections to the warehouse, in one place for every package (ingest, quality, promotion, the CLI).

- `airflow_connection`: an Airflow connection by id (at task run time only), or None.
- `postgres_connection`: a psycopg2 connection for a postgres Airflow connection (`connect_with`
  builds it from a connection object resolved elsewhere, e.g. by the API server).
- `postgres_url_from_conn`: the libpq URL of an `AIRFLOW_CONN_*` JSON value (CLIs, the local stack).
- `OwnedConnection`: a connection a helper owns (the call counter, a lease's heartbeat): autocommit,
  opened lazily, reopened after the server restarted or the network dropped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import psycopg2

Connect = Callable[[], Any]

# libpq options that may sit in a postgres connection's extra (RDS needs sslmode/sslrootcert).
LIBPQ_EXTRA = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "application_name",
    "options",
)


def airflow_connection(conn_id: str) -> Any | None:
    """The Airflow connection `conn_id` through the Task SDK (env variables or any secrets backend)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def postgres_connection(conn_id: str) -> Any:
    """A psycopg2 connection for a postgres Airflow connection.

    Built from the connection's fields rather than PostgresHook.get_conn(), which hands out a
    psycopg 3 connection when that driver is installed; the loader relies on psycopg2's COPY API.
    """
    conn = airflow_connection(conn_id)
    if conn is None:
        raise LookupError(f"the Airflow connection {conn_id!r} is not defined")
    return connect_with(conn)


def connect_with(conn: Any, **defaults: Any) -> Any:
    """A psycopg2 connection from an Airflow connection's fields and the libpq options in its extra;
    `defaults` (e.g. connect_timeout, application_name) apply where the extra sets none."""
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    return psycopg2.connect(
        host=conn.host or "127.0.0.1",
        port=conn.port or 5432,
        user=conn.login or None,
        password=conn.password or None,
        dbname=conn.schema or "postgres",
        **{**defaults, **{k: extra[k] for k in LIBPQ_EXTRA if k in extra}},
    )


def postgres_url_from_conn(conn_json: str) -> str:
    """`postgresql://user[:password]@host:port/db` of an Airflow connection given as JSON."""
    conn = json.loads(conn_json)
    user = quote(conn.get("login") or "postgres", safe="")
    password = conn.get("password")
    auth = f"{user}:{quote(password, safe='')}" if password else user
    host = conn.get("host") or "127.0.0.1"
    return f"postgresql://{auth}@{host}:{conn.get('port') or 5432}/{conn.get('schema') or 'postgres'}"


class OwnedConnection:
    def __init__(self, connect: Connect):
        self._connect = connect
        self._conn: Any = None
        self._lock = threading.Lock()

    def run(self, statement: Any, params: tuple | dict[str, Any] = (), fetch: bool = False) -> Any:
        """Run one statement in its own transaction: its rows (`fetch`) or its row count.

        A broken connection is reopened once; an error then propagates (psycopg2.Error).
        """
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._conn is None or self._conn.closed:
                        self._conn = self._connect()
                        self._conn.autocommit = True
                    with self._conn.cursor() as cur:
                        cur.execute(statement, params)
                        return cur.fetchall() if fetch else cur.rowcount
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    self._drop()
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg2.Error:
                pass
        self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()
