"""A list walk under its source's shared call budget: a grant per page, a stop that lands what was
fetched, and a resume point the next run continues from.

- **Grants.** Before every page request the walk takes one grant from the source's budget
  (`budget.CallGate`; in tasks `warehouse/call_budget.SharedCallBudget`, shared by every task and
  pod of the source). A fan-out page then takes the grants of all its detail calls at once, or none:
  a page is never half detailed. The call counter settles a grant in the transaction that counts
  its call as sent (warehouse/call_counter.py, one write per call under a budget).
- **The stop.** A refused grant raises `BudgetExhausted` (a `WalkStopped`: a parallel walk yields
  the pages already requested first). The extract lands what it fetched and writes its manifest
  with `status: budget_exhausted` and a `resume` point (`stop_fields`): the next request (URL and
  parameters, credentials removed), the walk's filters, its incremental window end, the API's
  count and the records landed so far. A refused fan-out page is requested again on resume (its
  list call is the one call the stop costs).
- **The resume.** The next logical date finds that manifest as its previous one (`resume_from`) and
  continues the same walk, with the same filters, from the resume point, instead of starting
  over. Its manifest keeps the stopped walk's `window_end`, so the run after it starts its
  incremental window there (extract.incremental_params) and nothing in between is skipped.
  Records are deduplicated by content hash in staging; nothing is fetched twice but the one page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from game_market_pipeline.ingest.guards import WalkGuard, WalkStopped
from game_market_pipeline.ingest.paginators import PageRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from game_market_pipeline.budget import CallGate
    from game_market_pipeline.config.models import ResolvedEndpoint
    from game_market_pipeline.ingest.http_client import ApiClient

log = logging.getLogger(__name__)

STATUS_BUDGET_EXHAUSTED = "budget_exhausted"
T = TypeVar("T")


class BudgetExhausted(WalkStopped):
    """The source's call budget refused the grant for `request`: land what was fetched, stop, resume later."""

    def __init__(self, message: str, request: PageRequest):
        super().__init__(message)
        self.request = request


@dataclass(frozen=True)
class WalkResume:
    """Where a budget-stopped walk of an earlier date continues (its manifest's `resume`)."""

    next_request: dict[str, Any]
    filters: dict[str, Any]
    window_end: str  # the stopped walk's incremental window end (an ISO date)
    records_so_far: int  # records landed by the walk over every run before this one
    expected_records: int | None  # the API's count, from the walk's first page
    stopped_on: str  # the logical date whose run stopped last

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WalkResume:
        return cls(
            data["next_request"],
            dict(data.get("filters") or {}),
            data["window_end"],
            int(data.get("records_so_far", 0)),
            data.get("expected_records"),
            data["stopped_on"],
        )


def resume_from(previous_manifest: dict[str, Any] | None) -> WalkResume | None:
    """The walk to continue, when the previous landing stopped at the budget; else None (start afresh)."""
    if not previous_manifest or previous_manifest.get("status") != STATUS_BUDGET_EXHAUSTED:
        return None
    resume = previous_manifest.get("resume") or {}
    if not resume.get("next_request"):
        return None
    return WalkResume.from_json(resume)


def stop_fields(
    stop: BudgetExhausted | None,
    resumed: WalkResume | None,
    next_request: dict[str, Any] | None,
    filters: dict[str, Any],
    ingest_date: date,
    expected: int | None,
    records: int,
) -> dict[str, Any]:
    """The manifest fields of a walk under a budget: `status` and `resume` when it stopped;
    `window_end` (where the next incremental window starts) and `resumed_from` when it continued an
    earlier one. `next_request`: the stop's request as stored (credentials removed)."""
    window_end = resumed.window_end if resumed else ingest_date.isoformat()
    fields: dict[str, Any] = {"window_end": window_end}
    if resumed is not None:
        fields["resumed_from"] = resumed.stopped_on
    if stop is None:
        return fields
    fields["status"] = STATUS_BUDGET_EXHAUSTED
    fields["resume"] = {
        "next_request": next_request,
        "filters": filters,
        "window_end": window_end,
        "records_so_far": (resumed.records_so_far if resumed else 0) + records,
        "expected_records": expected,
        "stopped_on": ingest_date.isoformat(),
    }
    return fields


class BudgetStop:
    """Ends a walk's page iteration quietly at a budget stop, keeping the stop for the manifest."""

    def __init__(self) -> None:
        self.stop: BudgetExhausted | None = None

    def pages(self, pages: Iterator[T]) -> Iterator[T]:
        try:
            yield from pages
        except BudgetExhausted as exc:
            log.warning("%s", exc)
            self.stop = exc


class BudgetedWalkGuard(WalkGuard):
    """The walk guards, plus a grant from the source's call budget before every page and before
    every fan-out page's detail calls (all of them at once, or none)."""

    def __init__(
        self,
        endpoint: ResolvedEndpoint,
        client: ApiClient,
        calls_before: int,
        gate: CallGate,
    ) -> None:
        super().__init__(endpoint, client, calls_before)
        self._gate = gate
        self.granted = 0

    def before_page(self, request: PageRequest) -> None:
        super().before_page(request)  # the loop and cap checks first: a refused page costs nothing
        self._take(request, 1, f"page {request.index}")

    def before_details(self, request: PageRequest, calls: int) -> None:
        limits = [
            limit
            for limit in (
                getattr(self._gate, "calls_per_day", None),
                getattr(self._gate, "calls_per_month", None),
            )
            if limit is not None
        ]
        if limits and calls + 1 > min(limits):
            # All or none would be "none" in every window: a stop to resume would never move on.
            raise WalkStopped(
                f"{self.where}: page {request.index} needs {calls} detail calls, more than the source's whole "
                f"budget ({min(limits)} calls per window): make the pages smaller (`paginator.page_size`) "
                "or the budget larger."
            )
        self._take(request, calls, f"the {calls} detail calls of page {request.index}")

    def _take(self, request: PageRequest, calls: int, what: str) -> None:
        if calls <= 0:
            return
        if not self._gate.acquire(calls):
            raise BudgetExhausted(
                f"{self.where}: the source's call budget is spent; stopped before {what} "
                f"({self.link(request)}). What was fetched lands; the next run resumes here.",
                request,
            )
        self.granted += calls


def walk_guard(
    endpoint: ResolvedEndpoint, client: ApiClient, calls_before: int, gate: CallGate | None
) -> WalkGuard:
    """The walk's guard: budgeted when the source has a budget."""
    if gate is None:
        return WalkGuard(endpoint, client, calls_before)
    return BudgetedWalkGuard(endpoint, client, calls_before, gate)


def run_status(manifest: dict[str, Any]) -> tuple[str | None, str | None]:
    """(status override, message) for `ops.ingest_runs` of a list walk's landing."""
    if manifest.get("status") != STATUS_BUDGET_EXHAUSTED:
        resumed = manifest.get("resumed_from")
        return None, (f"finished the walk stopped at the budget on {resumed}" if resumed else None)
    resume = manifest.get("resume") or {}
    page = (resume.get("next_request") or {}).get("index")
    return STATUS_BUDGET_EXHAUSTED, (
        f"call budget spent: {resume.get('records_so_far')} records landed so far; "
        f"the next run resumes at page {page}"
    )


BUDGET_ALERT_SUBJECT = "[game-market-pipeline] call budget spent"


def budget_alert(config: Any, endpoint: ResolvedEndpoint, context: Any, records: int) -> Any:
    """The project's notifier (channel from `quality.alerts`) with the message of a budget stop."""
    from game_market_pipeline.quality.notifier import QualityAlertNotifier

    ti = context.get("ti") or context.get("task_instance")
    source = next((s for s in config.config.sources if s.name == endpoint.source), None)
    budget = source.budget if source is not None else None
    limits = (
        f"{budget.calls_per_day or '-'}/day, {budget.calls_per_month or '-'}/month" if budget else "a budget"
    )
    message = (
        f"{endpoint.dag_id}.{getattr(ti, 'task_id', 'load_to_staging')} (run {context.get('run_id')}): "
        f"{endpoint.source}'s call budget ({limits}) is spent. {records} records of this run were "
        "landed and loaded; the run is recorded as budget_exhausted in ops.ingest_runs and the next "
        "run resumes where this one stopped. Nothing to do unless this repeats daily."
    )
    return QualityAlertNotifier.from_settings(
        config.config.quality.alerts, subject=BUDGET_ALERT_SUBJECT, message=message
    )
