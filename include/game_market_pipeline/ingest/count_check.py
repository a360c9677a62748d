"""The API's own count of a walk against the records that landed: a short or long read is news.

An API that ends its pages early (`next: null` after 100 of the 200 records its `count` promised)
otherwise passes silently. The count comes from the walk's first page that carries one (the
paginator's `total_field`, RAWG's and PokeAPI's `count`); TCGdex sends none, so nothing is
compared there.

- within the endpoint's `count_tolerance` (a share of the count, default 1 %): `ok`;
- beyond it: `short_read` or `long_read`, a warning in the run's log, its manifest, its load result
  and `ops.ingest_runs` (`count_check`, `expected_records`, `message`);
- with `count_exact: true`, any difference is beyond the tolerance and fails the load (the run is
  recorded as `failed_count_mismatch`, nothing is loaded).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from game_market_pipeline.exceptions import PipelineError

OK = "ok"
SHORT_READ = "short_read"
LONG_READ = "long_read"


class CountMismatchError(PipelineError):
    """The records landed differ from the API's count on an endpoint whose count is exact."""


@dataclass(frozen=True)
class CountCheck:
    expected: int | None  # the API's count; None when it sends none
    landed: int
    tolerance: float  # share of `expected`
    exact: bool

    @property
    def status(self) -> str | None:
        if self.expected is None:
            return None
        difference = self.landed - self.expected
        allowed = 0.0 if self.exact else self.tolerance * self.expected
        if abs(difference) <= allowed:
            return OK
        return SHORT_READ if difference < 0 else LONG_READ

    def message(self, where: str) -> str | None:
        """The warning (or, for an exact count, the failure) in words; None when the counts agree."""
        status = self.status
        if status in (None, OK):
            return None
        assert self.expected is not None
        share = (self.landed - self.expected) / self.expected if self.expected else float("inf")
        rule = "the count is exact (`count_exact`)" if self.exact else f"tolerance {self.tolerance:.1%}"
        kind = "short" if status == SHORT_READ else "long"
        return (
            f"{where}: {kind} read — the API's count said {self.expected} records, {self.landed} landed "
            f"({share:+.1%}; {rule})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "expected_records": self.expected,
            "count_check": self.status,
            "count_tolerance": self.tolerance,
            "count_exact": self.exact,
        }
