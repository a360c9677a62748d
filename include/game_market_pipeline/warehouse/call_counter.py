"""API calls per source and UTC day, counted in the warehouse where they happen (`{ops}.api_calls`).

The HTTP client calls `add(source)` before every attempt — retries included — so the table holds
what was really sent, whoever sent it and however its task ended. This is the figure a per-source
call budget reads (`calls_today`, `calls_this_month`).

Cheap: calls are counted *before* they are made, from a block reserved in the warehouse with one
upsert per `block` calls; `close` gives back what was not used. So the table never under-counts: a
process killed mid-block leaves at most `block - 1` calls counted that were never made — the safe
side for a budget. With a scope (source, endpoint, ingest date), the same amounts go to
`{ops}.ingest_calls`, summed over every attempt of that date: `ops.ingest_runs.api_calls` reads it.

If the warehouse cannot be reached, fetching goes on: calls are kept in memory and reported by the
next upsert that succeeds (writes are retried at most every `retry_seconds`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import psycopg2
from psycopg2 import sql

from game_market_pipeline.warehouse.connection import Connect, OwnedConnection
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS

log = logging.getLogger(__name__)

DEFAULT_BLOCK = 20


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class IngestScope:
    """The endpoint and ingest date whose calls are also summed in `{ops}.ingest_calls`."""

    source: str
    endpoint: str
    ingest_date: date


class CallCounter:
    def __init__(
        self,
        connect: Connect,
        ops_schema: str = DEFAULT_SCHEMAS.ops,
        block: int = DEFAULT_BLOCK,
        scope: IngestScope | None = None,
        today: Callable[[], date] = utc_today,
        retry_seconds: float = 5.0,
    ):
        if block < 1:
            raise ValueError(f"block must be at least 1, not {block}")
        self._db = OwnedConnection(connect)
        self._ops = sql.Identifier(ops_schema)
        self.block = block
        self.scope = scope
        self._today = today
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()
        self._reserved: dict[tuple[str, date], int] = {}  # counted in the warehouse, not yet made
        self._unreported: dict[tuple[str, date], int] = {}  # made, not yet counted in the warehouse
        self._next_write_at = 0.0
        self.writes = 0
        self._grants: Any = None  # a SharedCallBudget whose grants the counted calls settle

    def settle_grants_of(self, budget: Any) -> None:
        """Settle `budget`'s grants (warehouse/call_budget.py) as their calls are counted, in the same
        transaction. Meant with `block=1`: every call written as it is made."""
        self._grants = budget

    # -- counting -------------------------------------------------------------------------------

    def add(self, source: str, n: int = 1) -> None:
        """Count `n` calls to `source`, about to be made now."""
        if n <= 0:
            return
        key = (source, self._today())
        with self._lock:
            if self._reserved.get(key, 0) >= n and not self._unreported and len(self._reserved) == 1:
                self._reserved[key] -= n
                return
            # Reserve a new block (and settle what an earlier day or a failed write left over).
            want = max(self.block, n)
            deltas = dict(self._unreported)
            deltas[key] = deltas.get(key, 0) + want
            for stale_key, remaining in self._reserved.items():
                if stale_key != key and remaining:
                    deltas[stale_key] = deltas.get(stale_key, 0) - remaining
            if self._write(deltas):
                left = self._reserved.get(key, 0)
                self._reserved = {key: left + want - n}
                self._unreported = {}
            else:
                self._unreported[key] = self._unreported.get(key, 0) + n

    def close(self) -> None:
        """Give back the unused reservation and report what a failed write left; close the connection."""
        with self._lock:
            deltas = dict(self._unreported)
            for key, remaining in self._reserved.items():
                deltas[key] = deltas.get(key, 0) - remaining
            self._next_write_at = 0.0
            if self._write(deltas):
                self._reserved, self._unreported = {}, {}
            elif any(self._unreported.values()):
                log.warning(
                    "%s API calls could not be counted in the warehouse: %s",
                    sum(self._unreported.values()),
                    {f"{s} {d}": n for (s, d), n in self._unreported.items()},
                )
        self._db.close()

    def __enter__(self) -> CallCounter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _write(self, deltas: dict[tuple[str, date], int]) -> bool:
        deltas = {k: v for k, v in deltas.items() if v}
        if not deltas:
            return True
        if time.monotonic() < self._next_write_at:
            return False
        # One round trip; rows in a fixed order so concurrent counters never deadlock.
        keys = sorted(deltas)
        statement = sql.SQL(
            "INSERT INTO {}.api_calls AS t (source, day, calls) VALUES {} "
            "ON CONFLICT (source, day) DO UPDATE SET calls = t.calls + EXCLUDED.calls, updated_at = now();"
        ).format(self._ops, sql.SQL(", ").join(sql.SQL("(%s, %s, %s)") for _ in keys))
        params: list[Any] = [v for key in keys for v in (key[0], key[1], deltas[key])]
        if self.scope is not None:
            scoped = sum(n for (source, _), n in deltas.items() if source == self.scope.source)
            if scoped:
                statement += sql.SQL(
                    " INSERT INTO {}.ingest_calls AS t (source, endpoint, ingest_date, calls) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (source, endpoint, ingest_date) DO UPDATE SET calls = t.calls + EXCLUDED.calls, "
                    "updated_at = now();"
                ).format(self._ops)
                params += [self.scope.source, self.scope.endpoint, self.scope.ingest_date, scoped]
        claimed: list[tuple[date, int]] = []
        if self._grants is not None:
            for (source, day), n in sorted(deltas.items()):
                taken = self._grants.claim(day, n) if source == self._grants.source and n > 0 else 0
                if taken:
                    claimed.append((day, taken))
                    statement += sql.SQL(
                        " UPDATE {}.call_budget_grants SET outstanding = greatest(0, outstanding - %s), "
                        "updated_at = now() WHERE source = %s AND day = %s;"
                    ).format(self._ops)
                    params += [taken, source, day]
        try:
            self._db.run(statement, tuple(params))
        except psycopg2.Error as exc:
            for day, taken in claimed:
                self._grants.unclaim(day, taken)
            self._next_write_at = time.monotonic() + self._retry_seconds
            log.warning("could not count API calls in the warehouse (kept in memory, retried): %s", exc)
            return False
        self.writes += 1
        return True

    # -- reading (the call budget's questions) --------------------------------------------------

    def calls_today(self, source: str) -> int:
        """Calls to `source` this UTC day, by every process (reserved blocks included)."""
        today = self._today()
        return self._sum(source, today, today)

    def calls_this_month(self, source: str) -> int:
        today = self._today()
        return self._sum(source, today.replace(day=1), today)

    def _sum(self, source: str, first: date, last: date) -> int:
        rows = self._db.run(
            sql.SQL(
                "SELECT coalesce(sum(calls), 0) FROM {}.api_calls WHERE source = %s AND day BETWEEN %s AND %s"
            ).format(self._ops),
            (source, first, last),
            fetch=True,
        )
        with self._lock:
            local = sum(n for (s, d), n in self._unreported.items() if s == source and first <= d <= last)
        return int(rows[0][0]) + local


def ingest_calls(
    cur: Any, ops_schema: str, source: str, endpoint: str, ingest_date: date | str
) -> int | None:
    """Calls counted for one endpoint and ingest date over all its attempts; None if none was counted."""
    cur.execute(
        sql.SQL(
            "SELECT calls FROM {}.ingest_calls WHERE source = %s AND endpoint = %s AND ingest_date = %s"
        ).format(sql.Identifier(ops_schema)),
        (source, endpoint, ingest_date),
    )
    row = cur.fetchone()
    return None if row is None else int(row[0])
