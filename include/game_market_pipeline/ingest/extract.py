"""API -> S3 bronze for one endpoint and one logical date: idempotent and resumable.

- A date whose manifest is complete is done: zero API calls, nothing written.
- Otherwise the walk resumes after the last landed part (or starts at page 1), checks every
  record, lands parts as it goes, and writes the manifest last (ingest/landing_contract.py).
- Walk guards (ingest/guards.py) stop a walk that loops or passes its caps; the records landed are
  compared with the API's count (ingest/count_check.py); the configured secret is redacted from
  every payload before it lands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.ingest.bronze import BronzeStore
from game_market_pipeline.ingest.checker import RecordChecker
from game_market_pipeline.ingest.count_check import CountCheck
from game_market_pipeline.ingest.fetch import iter_records_pages
from game_market_pipeline.ingest.guards import WalkGuard, WalkStopped
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.lander import PartLander
from game_market_pipeline.ingest.landing_contract import Checkpoint, Manifest, ResumePoint, merged_counts
from game_market_pipeline.ingest.paginators import PageRequest, Paginator, make_paginator
from game_market_pipeline.ingest.validate import ValidationStats
from game_market_pipeline.ingest.walk_budget import (
    BudgetExhausted,
    BudgetStop,
    WalkResume,
    resume_from,
    stop_fields,
)
from game_market_pipeline.ingest.walk_budget import walk_guard as budgeted_guard

log = logging.getLogger(__name__)

PART_RECORDS = 5000  # records per Parquet part: big enough for cheap S3 PUTs, small enough to resume


@dataclass(frozen=True)
class ExtractResult:
    manifest_uri: str
    api_calls: int
    already_complete: bool
    records: int
    invalid: int
    expected_records: int | None = None  # the API's count, where it sends one
    count_check: str | None = None  # ok | short_read | long_read (ingest/count_check.py)

    @classmethod
    def of(
        cls, manifest_uri: str, manifest: Manifest, api_calls: int, already_complete: bool
    ) -> ExtractResult:
        return cls(
            manifest_uri,
            api_calls,
            already_complete,
            manifest.records,
            manifest.invalid,
            manifest.expected_records,
            manifest.count_check,
        )

    def to_xcom(self) -> dict[str, Any]:
        # Only small, secret-free facts travel through XCom.
        return self.__dict__.copy()


@dataclass
class WalkState:
    """Where the walk of one endpoint and date stands: the parts landed by earlier attempts and the
    request this attempt starts with (None: the walk already ended, only the manifest is missing)."""

    checkpoints: list[Checkpoint]
    next_part: int
    filters: dict[str, Any]
    start: PageRequest | None
    expected: int | None  # the API's count, as the walk's first counted page said it
    previous_calls: int
    resumed: WalkResume | None = None  # the walk an earlier date stopped at the call budget
    stop: BudgetExhausted | None = None  # this attempt stopped at the call budget


def incremental_params(endpoint: ResolvedEndpoint, previous: Manifest | None, ingest_date: date) -> dict:
    """The server-side filter for an incremental endpoint: since the last complete date, else everything."""
    if endpoint.incremental is None or previous is None:
        return {}
    # A walk that finished what a budget stop left keeps the stopped walk's window end (walk_budget.py).
    start = previous.window_end or previous.ingest_date
    value = endpoint.incremental.format.format(
        start_date=start.isoformat(),
        end_date=ingest_date.isoformat(),
        start=f"{start.isoformat()}T00:00:00Z",
        end=f"{ingest_date.isoformat()}T23:59:59Z",
    )
    return {endpoint.incremental.param: value}


def extract_endpoint(
    endpoint: ResolvedEndpoint,
    client: ApiClient,
    store: BronzeStore,
    run_id: str,
    ingest_date: date,
    part_records: int = PART_RECORDS,
    parallel_pages: int | None = None,
    gate: Any = None,
) -> ExtractResult:
    """Walk pages -> check records -> land parts -> close with a manifest. `gate`: the source's call
    budget (budget.CallGate), a grant per page; when it refuses, the walk lands what it fetched and
    stops with `budget_exhausted`, and the next date resumes it (ingest/walk_budget.py)."""
    started = time.monotonic()
    existing = store.manifest()
    if existing is not None:
        log.info(
            "%s: %s is already landed (%s records); nothing to fetch",
            endpoint.dag_id,
            ingest_date,
            existing.records,
        )
        return ExtractResult.of(store.loc.uri(store.loc.manifest_key), existing, 0, True)
    paginator = make_paginator(endpoint.paginator)
    walk = resume_walk(endpoint, store, ingest_date, paginator)
    if walk.start is not None:
        guard = budgeted_guard(endpoint, client, walk.previous_calls, gate)
        with _noting_where(endpoint, guard):
            walk.checkpoints += walk_and_land(
                endpoint, client, store, walk, paginator, guard, part_records, parallel_pages
            )
    manifest = close_walk(endpoint, run_id, ingest_date, walk, client, time.monotonic() - started)
    uri = store.write_manifest(manifest)
    log.info(
        "%s: landed %s records (%s invalid) in %s parts with %s API calls",
        endpoint.dag_id,
        manifest.records,
        manifest.invalid,
        len(manifest.parts),
        client.calls,
    )
    return ExtractResult.of(uri, manifest, client.calls, False)


def resume_walk(
    endpoint: ResolvedEndpoint, store: BronzeStore, ingest_date: date, paginator: Paginator
) -> WalkState:
    """After the last landed part of an earlier attempt, or from the first page."""
    checkpoints, highest_part = store.checkpoints()
    previous = store.previous_manifest()
    # A walk an earlier date stopped at the call budget is continued, not started over.
    resumed = resume_from(previous.as_json() if previous is not None else None)
    expected = resumed.expected_records if resumed is not None else None
    if not checkpoints and resumed is not None:
        log.info("%s: resuming the walk the call budget stopped on %s", endpoint.dag_id, resumed.stopped_on)
        first = PageRequest.from_json(resumed.next_request)
        return WalkState([], highest_part + 1, resumed.filters, first, expected, 0, resumed)
    if not checkpoints:
        filters = incremental_params(endpoint, previous, ingest_date)
        first = paginator.first(endpoint.path, {**endpoint.params, **filters})
        return WalkState([], highest_part + 1, filters, first, None, 0)
    last = checkpoints[-1]
    landed = sum(c.records for c in checkpoints)
    log.info("%s: resuming after part %s (%s records landed)", endpoint.dag_id, last.part, landed)
    return WalkState(
        checkpoints,
        highest_part + 1,
        last.filters,
        last.next_request.request() if last.next_request is not None else None,
        next((c.expected_records for c in checkpoints if c.expected_records is not None), expected),
        sum(c.api_calls for c in checkpoints),
        resumed,
    )


def walk_and_land(
    endpoint: ResolvedEndpoint,
    client: ApiClient,
    store: BronzeStore,
    walk: WalkState,
    paginator: Paginator,
    guard: WalkGuard,
    part_records: int,
    parallel_pages: int | None,
) -> list[Checkpoint]:
    """The walk from `walk.start`: every page's records checked, then landed, part by part."""
    assert walk.start is not None
    checker = RecordChecker(endpoint, client.redactor)
    pages = iter_records_pages(client, endpoint, paginator, walk.start, parallel_pages, guard)
    budget = BudgetStop()
    with PartLander(store, walk.next_part, on_failure=client.cancel) as lander:
        part = _OpenPart(client.calls)
        page = None
        for page in budget.pages(pages):
            if walk.expected is None:
                walk.expected = page.total
            records = checker.check(page.records, part.stats)
            guard.after_page(page.request, (r.content_hash for r in records))
            lander.add(records, page.request.index)
            if lander.open_records >= part_records or page.next_request is None:
                lander.close_part(part.walk_fields(walk, page.next_request, client))
                part = _OpenPart(client.calls)
        walk.stop = budget.stop
        if walk.stop is not None:
            if lander.open_records:  # the budget stopped the walk: what was fetched lands
                lander.close_part(part.walk_fields(walk, walk.stop.request, client))
        elif lander.open_records or page is None:
            # The walk ended on an empty listing, or on a page already landed in part: land what is left.
            lander.close_part(part.walk_fields(walk, None, client))
    return lander.landed


class _OpenPart:
    """What a checkpoint says about its part beyond the Parquet: counts, calls, where the walk goes on."""

    def __init__(self, calls_before: int) -> None:
        self.stats = ValidationStats()
        self._calls_before = calls_before

    def walk_fields(
        self, walk: WalkState, next_request: PageRequest | None, client: ApiClient
    ) -> dict[str, Any]:
        return {
            "next_request": resume_point(next_request, client),
            "expected_records": walk.expected,
            "filters": walk.filters,
            "stats": self.stats.counts(),
            "api_calls": client.calls - self._calls_before,
        }


def resume_point(request: PageRequest | None, client: ApiClient) -> ResumePoint | None:
    """A request as stored to resume from: without any credential (the client adds the key per request)."""
    if request is None:
        return None
    return ResumePoint.of(PageRequest(request.index, client.redactor.url(request.url), request.params))


def close_walk(
    endpoint: ResolvedEndpoint,
    run_id: str,
    ingest_date: date,
    walk: WalkState,
    client: ApiClient,
    seconds: float,
) -> Manifest:
    """The manifest of a finished walk: its parts in order, the checks' counts, the API's count compared."""
    counts = merged_counts(walk.checkpoints)
    walk_records = counts.records + (walk.resumed.records_so_far if walk.resumed else 0)
    # A walk stopped at the budget is not compared with the API's count yet; a resumed one counts
    # the records of every run of the walk.
    expected = None if walk.stop else walk.expected
    count = CountCheck(expected, walk_records, endpoint.count_tolerance, endpoint.count_exact)
    count_warning = count.message(endpoint.dag_id)
    if count_warning:
        log.warning("%s", count_warning)
    if counts.drift_counts:
        log.warning(
            "%s: schema drift — fields the model does not know (kept in the raw payload): %s",
            endpoint.dag_id,
            ", ".join(f"{k} ({v}x)" for k, v in list(counts.drift_counts.items())[:20]),
        )
    return Manifest.completed(
        endpoint,
        ingest_date,
        run_id,
        walk.checkpoints,
        calls=client.calls,
        previous_calls=walk.previous_calls,
        seconds=seconds,
        counts=counts,
        filters=walk.filters,
        pages=max((c.last_page for c in walk.checkpoints if c.last_page is not None), default=0),
        **count.to_json(),
        count_message=count_warning,
        **stop_fields(
            walk.stop,
            walk.resumed,
            _stored(resume_point(walk.stop.request, client)) if walk.stop else None,
            walk.filters,
            ingest_date,
            walk.expected,
            counts.records,
        ),
    )


def _stored(point: ResumePoint | None) -> dict[str, Any] | None:
    return None if point is None else point.model_dump(mode="json")


@contextmanager
def _noting_where(endpoint: ResolvedEndpoint, guard: WalkGuard) -> Iterator[None]:
    """An error that ends the walk (an API error, Airflow's execution_timeout, a failed upload) gets
    a note naming the endpoint and the last link requested, credentials removed; a guard's own stop
    names them already."""
    try:
        yield
    except BaseException as exc:
        if guard.last_link is not None and not isinstance(exc, WalkStopped):
            exc.add_note(
                f"{endpoint.source}.{endpoint.name}: the walk stopped after requesting {guard.last_link}; "
                "parts landed before this stay in S3 and a retry resumes after the last one."
            )
        raise
