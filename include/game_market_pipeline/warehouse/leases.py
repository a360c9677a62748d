"""Endpoint-and-date leases in the warehouse (`{ops}.ingest_leases`): one fetcher per landing.

A run takes the lease of its endpoint and ingest date before it fetches anything. A second run of
the same endpoint and date (a manual run beside the scheduled one, a backfill, two `airflow dags
test`) **waits** — logging who holds it — until the lease is released or expires, then goes on;
by then the landing is usually complete, so it makes no API call at all. A lease whose owner died
(killed, lost its node) expires `ttl_seconds` after its last heartbeat and is taken over; the new
owner resumes from the landed parts. Expiry is judged by the database clock, so workers' clocks
do not matter.

While it holds the lease, the owner renews it every `ttl_seconds / 3` from a background thread. If
it cannot (the warehouse is unreachable until the lease has expired, or another run took it over),
`on_lost` is called — the extract stops fetching — because someone else may now be fetching.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg2
from psycopg2 import sql

from game_market_pipeline.exceptions import PipelineError
from game_market_pipeline.warehouse.connection import Connect, OwnedConnection
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 90.0
DEFAULT_WAIT_SECONDS = 6 * 3600.0


class LeaseHeldError(PipelineError):
    """Another run held the lease for longer than this run was willing to wait."""


def lease_owner(run_id: str) -> str:
    """Who holds a lease, readable in the table: the run, the host and process, and a unique tail."""
    return f"{run_id} pid {os.getpid()}@{socket.gethostname()} {uuid.uuid4().hex[:8]}"


class EndpointLease:
    def __init__(
        self,
        connect: Connect,
        source: str,
        endpoint: str,
        ingest_date: date,
        owner: str,
        ops_schema: str = DEFAULT_SCHEMAS.ops,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        wait_seconds: float = DEFAULT_WAIT_SECONDS,
        poll_seconds: float | None = None,
        on_lost: Callable[[str], None] | None = None,
    ):
        self._db = OwnedConnection(connect)
        self.key = (source, endpoint, ingest_date)
        self.owner = owner
        self.name = f"{source}.{endpoint} {ingest_date.isoformat()}"
        self._ops = sql.Identifier(ops_schema)
        self.ttl = ttl_seconds
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds if poll_seconds is not None else min(5.0, max(0.2, ttl_seconds / 10))
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self.waited_seconds = 0.0
        self.lost: str | None = None

    # -- taking and giving back -----------------------------------------------------------------

    def _try_acquire(self) -> tuple[bool, str | None, float | None]:
        """(acquired, current holder, seconds until the holder's lease expires)."""
        rows = self._db.run(
            sql.SQL("""
            INSERT INTO {ops}.ingest_leases AS l (source, endpoint, ingest_date, owner, expires_at)
            VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s))
            ON CONFLICT (source, endpoint, ingest_date) DO UPDATE
                SET owner = EXCLUDED.owner, acquired_at = now(), heartbeat_at = now(), expires_at = EXCLUDED.expires_at
                WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner
            RETURNING owner""").format(ops=self._ops),
            (*self.key, self.owner, self.ttl),
            fetch=True,
        )
        if rows:
            return True, self.owner, None
        held = self._db.run(
            sql.SQL(
                "SELECT owner, extract(epoch FROM expires_at - now()) FROM {}.ingest_leases "
                "WHERE source = %s AND endpoint = %s AND ingest_date = %s"
            ).format(self._ops),
            self.key,
            fetch=True,
        )
        if not held:  # released between the two statements: try again at once
            return False, None, 0.0
        return False, held[0][0], float(held[0][1])

    def acquire(self) -> None:
        """Take the lease, waiting while another live run holds it; then keep it alive."""
        started = time.monotonic()
        announced = None
        while True:
            acquired, holder, expires_in = self._try_acquire()
            if acquired:
                break
            waited = time.monotonic() - started
            if waited >= self.wait_seconds:
                raise LeaseHeldError(
                    f"{self.name} is being fetched by {holder!r}; gave up waiting after {waited:.0f}s "
                    f"(its lease expires in {expires_in:.0f}s unless renewed)"
                )
            if holder != announced:
                log.warning(
                    "%s is being fetched by %r: waiting for it to finish (or for its lease to expire in %.0fs) "
                    "instead of fetching it again",
                    self.name,
                    holder,
                    expires_in or 0.0,
                )
                announced = holder
            time.sleep(self.poll_seconds)
        self.waited_seconds = time.monotonic() - started
        if announced is not None:
            log.info("%s: took the lease after waiting %.1fs", self.name, self.waited_seconds)
        self._stop.clear()
        self._heartbeat = threading.Thread(
            target=self._renew_until_stopped, name="lease-heartbeat", daemon=True
        )
        self._heartbeat.start()

    def release(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None
        try:
            self._db.run(
                sql.SQL(
                    "DELETE FROM {}.ingest_leases WHERE source = %s AND endpoint = %s AND ingest_date = %s AND owner = %s"
                ).format(self._ops),
                (*self.key, self.owner),
            )
        except psycopg2.Error as exc:
            # Not fatal: the lease expires by itself.
            log.warning("%s: could not release the lease (it expires in %.0fs): %s", self.name, self.ttl, exc)
        finally:
            self._db.close()

    def __enter__(self) -> EndpointLease:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    # -- keeping it -----------------------------------------------------------------------------

    def renew(self) -> bool:
        """Extend the lease; False if it is no longer ours."""
        return (
            self._db.run(
                sql.SQL(
                    "UPDATE {}.ingest_leases SET heartbeat_at = now(), expires_at = now() + make_interval(secs => %s) "
                    "WHERE source = %s AND endpoint = %s AND ingest_date = %s AND owner = %s"
                ).format(self._ops),
                (self.ttl, *self.key, self.owner),
            )
            == 1
        )

    def _renew_until_stopped(self) -> None:
        valid_until = time.monotonic() + self.ttl
        while not self._stop.wait(self.ttl / 3):
            try:
                if self.renew():
                    valid_until = time.monotonic() + self.ttl
                    continue
                reason = f"{self.name}: the lease was taken over by another run"
            except psycopg2.Error as exc:
                if time.monotonic() < valid_until:
                    log.warning("%s: could not renew the lease (retrying): %s", self.name, exc)
                    continue
                reason = f"{self.name}: the lease expired while the warehouse was unreachable ({exc})"
            self.lost = reason
            log.error("%s; stopping, another run may be fetching it now", reason)
            if self._on_lost is not None:
                self._on_lost(reason)
            return
