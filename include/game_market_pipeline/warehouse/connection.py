"""A connection a helper owns (the call counter, a lease's heartbeat): autocommit, opened lazily,
reopened after the server restarted or the network dropped."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg2

Connect = Callable[[], Any]


class OwnedConnection:
    def __init__(self, connect: Connect):
        self._connect = connect
        self._conn: Any = None
        self._lock = threading.Lock()

    def run(self, statement: Any, params: tuple = (), fetch: bool = False) -> list[tuple] | int:
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
