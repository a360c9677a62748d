"""A source's call budget, shared by every task and pod through the warehouse (`budget.CallGate`).

`acquire()` grants one call if the source's calls today and this month stay within the config's
`budget` (calls_per_day, calls_per_month). "Used" is what was really sent (`{ops}.api_calls`: every
attempt of every endpoint of the source, list pages and retries included, counted before sending)
plus what was granted and not yet sent (`outstanding` in `{ops}.call_budget_grants`); `settle(n)`
moves n sent calls out of `outstanding` once the counter has them; `acquire(n)` grants n at once or none.
With the call counter attached (`CallCounter.settle_grants_of`), a grant is settled in the very
transaction that counts its call as sent: "used" is then exact while calls are in flight. Each grant is one short
transaction under a per-source advisory lock: two DAGs of one source asking at once are served one
after the other and never grant more than the budget together. A run killed between grant and
settle leaves its grants outstanding until the day ends: the budget errs on the safe side. When the answer is no, the caller lands what it fetched and records
`budget_exhausted`; the next budget window (a new day or month) grants again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from psycopg2 import sql

from game_market_pipeline.warehouse.call_counter import utc_today
from game_market_pipeline.warehouse.connection import Connect, OwnedConnection

log = logging.getLogger(__name__)


class SharedCallBudget:
    def __init__(
        self,
        connect: Connect,
        ops_schema: str,
        source: str,
        calls_per_day: int | None,
        calls_per_month: int | None,
        today: Callable[[], date] = utc_today,
    ):
        self.source = source
        self.calls_per_day = calls_per_day
        self.calls_per_month = calls_per_month
        self._db = OwnedConnection(connect)
        self._ops = sql.Identifier(ops_schema)
        self._today = today
        self.granted = 0
        self.refused = False
        self._days: list[date] = []  # the day of each grant not yet settled, oldest first
        self._lock = threading.Lock()  # the counter claims grants from the HTTP threads

    def acquire(self, n: int = 1) -> bool:
        """Grant `n` calls at once, or none (a fan-out page takes all its detail calls or none)."""
        if n <= 0 or (self.calls_per_day is None and self.calls_per_month is None):
            return True
        day = self._today()
        statement = sql.SQL("""
            SELECT pg_advisory_xact_lock(hashtext('gmp-call-budget:' || %(source)s));
            WITH used AS (
                SELECT (SELECT coalesce(sum(calls), 0) FROM {ops}.api_calls
                         WHERE source = %(source)s AND day = %(day)s)
                     + (SELECT coalesce(sum(outstanding), 0) FROM {ops}.call_budget_grants
                         WHERE source = %(source)s AND day = %(day)s) AS today,
                       (SELECT coalesce(sum(calls), 0) FROM {ops}.api_calls
                         WHERE source = %(source)s AND day BETWEEN %(month)s AND %(day)s)
                     + (SELECT coalesce(sum(outstanding), 0) FROM {ops}.call_budget_grants
                         WHERE source = %(source)s AND day BETWEEN %(month)s AND %(day)s) AS month
            )
            INSERT INTO {ops}.call_budget_grants AS t (source, day, granted, outstanding)
            SELECT %(source)s, %(day)s, %(n)s, %(n)s FROM used
             WHERE (%(per_day)s IS NULL OR used.today + %(n)s <= %(per_day)s)
               AND (%(per_month)s IS NULL OR used.month + %(n)s <= %(per_month)s)
            ON CONFLICT (source, day) DO UPDATE
               SET granted = t.granted + EXCLUDED.granted, outstanding = t.outstanding + EXCLUDED.outstanding,
                   updated_at = now()
            RETURNING granted""").format(ops=self._ops)
        params = {
            "source": self.source,
            "day": day,
            "month": day.replace(day=1),
            "per_day": self.calls_per_day,
            "per_month": self.calls_per_month,
            "n": n,
        }
        rows = self._db.run(statement, params, fetch=True)
        if rows:
            with self._lock:
                self.granted += n
                self._days.extend([day] * n)
            return True
        if not self.refused:
            log.warning(
                "%s: the call budget is spent (%s/day, %s/month; granted here: %s)",
                self.source,
                self.calls_per_day,
                self.calls_per_month,
                self.granted,
            )
        self.refused = True
        return False

    def settle(self, sent: int) -> None:
        """`sent` granted calls were made (the call counter has counted them): no longer outstanding.

        Called once the calls returned, whatever they answered; a grant never used (the run stopped
        first) is settled too, giving it back."""
        with self._lock:
            settled, self._days = self._days[:sent], self._days[sent:]
        for day in sorted(set(settled)):
            self._db.run(
                sql.SQL(
                    "UPDATE {}.call_budget_grants SET outstanding = greatest(0, outstanding - %s), "
                    "updated_at = now() WHERE source = %s AND day = %s"
                ).format(self._ops),
                (settled.count(day), self.source, day),
            )

    def claim(self, day: date, calls: int) -> int:
        """For the call counter: `calls` calls of `day` are being counted as sent; they use up (at
        most) as many of this budget's grants, which the counter settles in the same transaction.
        So a sent call is never both in `api_calls` and `outstanding` (which would refuse grants the
        budget still has). Returns how many grants were claimed."""
        with self._lock:
            claimed = 0
            kept: list[date] = []
            for grant_day in self._days:
                if grant_day == day and claimed < calls:
                    claimed += 1
                else:
                    kept.append(grant_day)
            self._days = kept
            return claimed

    def unclaim(self, day: date, calls: int) -> None:
        """The counter's write failed: its claimed grants stay outstanding here."""
        with self._lock:
            self._days.extend([day] * calls)

    def close(self) -> None:
        """Give back grants that were never used."""
        with self._lock:
            unused = len(self._days)
        if unused:
            self.settle(unused)
            self.granted -= unused
        self._db.close()
