"""API -> S3 bronze for one endpoint and one logical date: idempotent and resumable.

- A date whose manifest is complete is done: zero API calls, nothing written.
- Otherwise the walk resumes after the last landed part (or starts at page 1), validates every
  record, lands parts as it goes, and writes the manifest last.
- Walk guards (ingest/guards.py) stop a walk that loops or passes its caps; the records landed are
  compared with the API's count (ingest/count_check.py); the configured secret is redacted from
  every payload before it lands.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.ingest.bronze import ROW_GROUP_RECORDS, SCHEMA_VERSION, BronzeStore, PartWriter
from game_market_pipeline.ingest.check_pool import LazyCheckPool
from game_market_pipeline.ingest.count_check import CountCheck
from game_market_pipeline.ingest.fetch import iter_records_pages
from game_market_pipeline.ingest.guards import WalkGuard, WalkStopped
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.paginators import PageRequest
from game_market_pipeline.ingest.validate import CheckedRecord, ValidationStats, check_record, redact_secrets
from game_market_pipeline.ingest.walk_budget import BudgetStop, resume_from, stop_fields, walk_guard
from game_market_pipeline.records.registry import record_model

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

    def to_xcom(self) -> dict[str, Any]:
        # Only small, secret-free facts travel through XCom.
        return self.__dict__.copy()


def incremental_params(
    endpoint: ResolvedEndpoint, previous: dict[str, Any] | None, ingest_date: date
) -> dict:
    """The server-side filter for an incremental endpoint: since the last complete date, else everything."""
    if endpoint.incremental is None or previous is None:
        return {}
    # A walk that finished what a budget stop left keeps the stopped walk's window end (walk_budget.py).
    start = date.fromisoformat(previous.get("window_end") or previous["ingest_date"])
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
    check_processes: int | None = None,
    gate: Any = None,
) -> ExtractResult:
    """`check_processes`: worker processes for the record checks of planned pages (0: in this
    process); default the endpoint's setting, else chosen by the CPUs free (ingest/check_pool.py).
    `gate`: the source's call budget (budget.CallGate): a grant per page; when it refuses, the walk
    lands what it fetched and stops with `budget_exhausted` (ingest/walk_budget.py)."""
    started = time.monotonic()
    existing = store.manifest()
    if existing:
        log.info(
            "%s: %s is already landed (%s records); nothing to fetch",
            endpoint.dag_id,
            ingest_date,
            existing["records"],
        )
        return ExtractResult(
            store.loc.uri(store.loc.manifest_key),
            0,
            True,
            existing["records"],
            existing["invalid"],
            existing.get("expected_records"),
            existing.get("count_check"),
        )

    checkpoints, highest_part = store.checkpoints()
    stats = ValidationStats()
    for checkpoint in checkpoints:
        stats.merge(checkpoint["stats"])
    previous_calls = sum(int(c.get("api_calls", 0)) for c in checkpoints)
    # The API's count as the walk's first counted page said it (kept in every checkpoint for resumes).
    expected = next(
        (c["expected_records"] for c in checkpoints if c.get("expected_records") is not None), None
    )
    # A walk an earlier date stopped at the call budget is continued, not started over.
    resumed = resume_from(store.previous_manifest())
    if expected is None and resumed is not None:
        expected = resumed.expected_records
    if checkpoints:
        filters = checkpoints[-1]["filters"]
        start = checkpoints[-1]["next_request"]
        log.info(
            "%s: resuming after part %s (%s records landed)",
            endpoint.dag_id,
            checkpoints[-1]["part"],
            stats.records,
        )
    elif resumed is not None:
        filters, start = resumed.filters, resumed.next_request
        log.info("%s: resuming the walk the call budget stopped on %s", endpoint.dag_id, resumed.stopped_on)
    else:
        filters = incremental_params(endpoint, store.previous_manifest(), ingest_date)
        start = None
    model = record_model(endpoint.record_model)
    next_part = highest_part + 1
    guard = walk_guard(endpoint, client, previous_calls, gate)
    budget = BudgetStop()

    if not checkpoints or start is not None:
        first = PageRequest.from_json(start) if start else None
        if first is None and filters:
            from game_market_pipeline.ingest.paginators import make_paginator

            first = make_paginator(endpoint.paginator).first(endpoint.path, {**endpoint.params, **filters})
        buffer: list[CheckedRecord] = []
        pages: list[int] = []
        part = PartWriter(store, next_part)
        part_stats = ValidationStats()
        calls_at_last_part = client.calls
        fetched = None
        checks = LazyCheckPool(
            endpoint.check_processes if check_processes is None else check_processes,
            endpoint.record_model,
            endpoint.primary_key,
            endpoint.record_selector,
        )
        # A finished part is uploaded (Parquet, checkpoint) in the background while the next one is
        # fetched and validated; at most one is in flight.
        with (
            _noting_where(endpoint, guard),
            checks,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="land") as lander,
        ):
            in_flight: Future | None = None

            def flush() -> None:
                nonlocal buffer, pages
                part.add(buffer, pages)
                buffer, pages = [], []

            def land(next_request: PageRequest | None) -> None:
                nonlocal in_flight, calls_at_last_part, next_part, part, part_stats
                flush()
                if in_flight is not None:
                    checkpoints.append(in_flight.result())
                in_flight = lander.submit(
                    part.upload,
                    {
                        "next_request": _resume_point(next_request, client),
                        "expected_records": expected,
                        "filters": filters,
                        "stats": part_stats.to_json(),
                        "api_calls": client.calls - calls_at_last_part,
                    },
                )
                # A failed upload stops fetching at once, not a whole part later (issue 19).
                in_flight.add_done_callback(lambda done: _stop_fetching_if_failed(done, client))
                stats.merge(part_stats.to_json())
                calls_at_last_part = client.calls
                next_part += 1
                part, part_stats = PartWriter(store, next_part), ValidationStats()

            walk = iter_records_pages(client, endpoint, first, parallel_pages, checks, guard)
            for fetched in budget.pages(walk):
                if expected is None:
                    expected = fetched.total
                if fetched.checked is not None:
                    page_records = fetched.checked.records
                    part_stats.merge(fetched.checked.stats)
                else:
                    page_records = [
                        check_record(raw, model, endpoint.primary_key, part_stats) for raw in fetched.records
                    ]
                page_records = [redact_secrets(r, client.redactor) for r in page_records]
                guard.after_page(fetched.request, (r.content_hash for r in page_records))
                buffer.extend(page_records)
                pages.extend([fetched.request.index] * len(page_records))
                if len(buffer) >= ROW_GROUP_RECORDS:
                    flush()
                if part.records + len(buffer) >= part_records or fetched.next_request is None:
                    land(fetched.next_request)
            if budget.stop is not None:
                if buffer or part.records:
                    land(budget.stop.request)
            elif buffer or part.records or fetched is None:
                # The walk ended on an empty listing, or a page we already buffered: land what is left.
                land(None)
            if in_flight is not None:
                checkpoints.append(in_flight.result())

    walk_records = stats.records + (resumed.records_so_far if resumed else 0)
    # A stopped walk is not compared with the API's count yet; a resumed one counts every run's records.
    count = CountCheck(
        None if budget.stop else expected, walk_records, endpoint.count_tolerance, endpoint.count_exact
    )
    count_warning = count.message(endpoint.dag_id)
    if count_warning:
        log.warning("%s", count_warning)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "complete": True,
        "source": endpoint.source,
        "endpoint": endpoint.name,
        "ingest_date": ingest_date.isoformat(),
        "run_id": run_id,
        "record_model": endpoint.record_model,
        "primary_key": endpoint.primary_key,
        "filters": filters,
        "pages": max((c["last_page"] for c in checkpoints if c.get("last_page") is not None), default=0),
        "records": stats.records,
        "valid": stats.records - stats.invalid,
        "invalid": stats.invalid,
        "error_counts": dict(stats.error_counts.most_common(20)),
        "drift_fields": dict(stats.drift_counts.most_common(200)),
        **count.to_json(),
        "count_message": count_warning,
        "api_calls": previous_calls + client.calls,
        "resumed": bool(previous_calls),
        "parts": [
            {
                k: c[k]
                for k in (
                    "part",
                    "key",
                    "quarantine_key",
                    "records",
                    "valid",
                    "invalid",
                    "file_sha256",
                    "records_sha256",
                )
            }
            for c in checkpoints
        ],
        "completed_at": datetime.now(UTC).isoformat(),
        "extract_seconds": round(time.monotonic() - started, 3),
        **stop_fields(
            budget.stop,
            resumed,
            _resume_point(budget.stop.request, client) if budget.stop else None,
            filters,
            ingest_date,
            expected,
            stats.records,
        ),
    }
    if stats.drift_counts:
        log.warning(
            "%s: schema drift — fields the model does not know (kept in the raw payload): %s",
            endpoint.dag_id,
            ", ".join(f"{k} ({v}x)" for k, v in stats.drift_counts.most_common(20)),
        )
    uri = store.write_manifest(manifest)
    log.info(
        "%s: landed %s records (%s invalid) in %s parts with %s API calls",
        endpoint.dag_id,
        stats.records,
        stats.invalid,
        len(checkpoints),
        client.calls,
    )
    return ExtractResult(uri, client.calls, False, stats.records, stats.invalid, expected, count.status)


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


def _stop_fetching_if_failed(upload: Future, client: ApiClient) -> None:
    if not upload.cancelled() and upload.exception() is not None:
        client.cancel(f"uploading a part to S3 failed: {upload.exception()}")


def _resume_point(next_request: PageRequest | None, client: ApiClient) -> dict[str, Any] | None:
    if next_request is None:
        return None
    # Resume points are stored without any credential: the client adds the key per request.
    return {**next_request.to_json(), "url": client.redactor.url(next_request.url)}
