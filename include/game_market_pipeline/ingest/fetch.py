"""Walk an endpoint page by page: sequential, or in parallel once the total is known; fan-out
to detail calls. Yields pages in order, holding at most a small window of pages in memory."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.exceptions import ApiResponseError
from game_market_pipeline.ingest.guards import WalkGuard, WalkStopped
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.paginators import PageRequest, Paginator
from game_market_pipeline.ingest.record_selector import select_records


@dataclass(frozen=True)
class FetchedPage:
    request: PageRequest
    records: list[Any]  # as the API sent them: the records the walk stores (list items or details)
    next_request: PageRequest | None  # where a resumed run continues after this page
    # How many records the API says the whole walk has (its `count`), where this page's body says.
    total: int | None = None


def _fetch(client: ApiClient, endpoint: ResolvedEndpoint, request: PageRequest) -> tuple[Any, list[Any]]:
    body = client.get_json(request.url, request.params)
    where = f"{endpoint.source}.{endpoint.name} page {request.index}"
    return body, select_records(body, endpoint.record_selector, where)


def iter_pages(
    client: ApiClient,
    endpoint: ResolvedEndpoint,
    paginator: Paginator,
    start: PageRequest,
    parallel: int | None = None,
    guard: WalkGuard | None = None,
) -> Iterator[FetchedPage]:
    """Pages of the list endpoint from `start` (the first page or a resume point), in order. Once a
    body lets `paginator` plan the remaining requests, up to `parallel` are fetched at a time. With
    `guard`, every page request is checked first (ingest/guards.py)."""
    parallel = max(1, parallel or endpoint.parallel_pages)
    request: PageRequest | None = start
    while request is not None:
        if guard is not None:
            guard.before_page(request)
        body, records = _fetch(client, endpoint, request)
        total = paginator.total(body)
        planned = paginator.plan(request, body, len(records)) if parallel > 1 else None
        if planned:
            yield FetchedPage(request, records, planned[0], total)
            yield from _fetch_planned(client, endpoint, planned, parallel, guard)
            return
        request_after = paginator.after(request, body, len(records))
        yield FetchedPage(request, records, request_after, total)
        request = request_after


def _fetch_planned(
    client: ApiClient,
    endpoint: ResolvedEndpoint,
    planned: list[PageRequest],
    parallel: int,
    guard: WalkGuard | None = None,
) -> Iterator[FetchedPage]:
    # A bounded window of in-flight pages keeps memory flat however many pages there are.
    window = parallel * 2
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="page") as threads:
        in_flight: list[tuple[int, Future]] = []
        next_to_submit = 0
        # A guard's stop is raised once the pages requested before it are yielded (and can land).
        stopped: WalkStopped | None = None
        for position in range(len(planned)):
            while stopped is None and next_to_submit < len(planned) and len(in_flight) < window:
                request = planned[next_to_submit]
                if guard is not None:
                    try:
                        guard.before_page(request)
                    except WalkStopped as exc:
                        stopped = exc
                        break
                in_flight.append((next_to_submit, threads.submit(_fetch, client, endpoint, request)))
                next_to_submit += 1
            if not in_flight:
                assert stopped is not None
                raise stopped
            index, future = in_flight.pop(0)
            assert index == position
            following = planned[position + 1] if position + 1 < len(planned) else None
            yield FetchedPage(planned[position], future.result()[1], following)


def fan_out(
    client: ApiClient,
    endpoint: ResolvedEndpoint,
    parents: list[Any],
    pool: ThreadPoolExecutor,
    guard: WalkGuard | None = None,
) -> list[Any]:
    """One detail call per parent record, `fan_out.concurrency` at a time; order preserved."""
    assert endpoint.fan_out is not None
    template, key = endpoint.fan_out.path, endpoint.fan_out.parent_key

    def detail(parent: Any) -> Any:
        if not isinstance(parent, dict) or parent.get(key) in (None, ""):
            raise ApiResponseError(
                f"{endpoint.source}.{endpoint.name}: list record has no '{key}' to fetch its detail: "
                f"{str(parent)[:120]}"
            )
        from urllib.parse import quote

        # The id is a literal value (TCGdex has ids like "exu-%3F"): encode all of it, once.
        path = template.replace("{" + key + "}", quote(str(parent[key]), safe=""))
        if guard is not None:
            guard.before_call(path)
        return client.get_json(path)

    return list(pool.map(detail, parents))


def iter_records_pages(
    client: ApiClient,
    endpoint: ResolvedEndpoint,
    paginator: Paginator,
    start: PageRequest,
    parallel: int | None = None,
    guard: WalkGuard | None = None,
) -> Iterator[FetchedPage]:
    """Pages whose records are what gets stored: the list records, or their details on fan-out."""
    if endpoint.fan_out is None:
        yield from iter_pages(client, endpoint, paginator, start, parallel, guard)
        return
    with ThreadPoolExecutor(max_workers=endpoint.fan_out.concurrency, thread_name_prefix="detail") as pool:
        for page in iter_pages(client, endpoint, paginator, start, parallel, guard):
            if guard is not None:
                guard.before_details(page.request, len(page.records))
            details = fan_out(client, endpoint, page.records, pool, guard)
            yield FetchedPage(page.request, details, page.next_request, page.total)
