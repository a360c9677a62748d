"""Details by fan-out from staging, incremental: an endpoint with `details_of` (e.g. `rawg.game_details`,
`/games/{id}`) fetches one detail per record of its list endpoint's staging table that is new, or
whose list item changed, since its detail was last fetched — never for an unchanged one.

- **What needs a detail**: the latest version of each staged list record (`raw.<source>__<list>`,
  greatest `_ingested_at`) whose content hash differs from the one recorded in
  `ops.detail_fetches` when its detail was last landed. That table is written by the load of the
  details, in the staging transaction, so a detail counts as fetched only once it is in staging.
- **Most valuable first**: the work list is ordered by the configured `priority` fields of the list
  record (descending), and a run makes at most `max_calls_per_run` detail calls: a backlog drains
  over days; its size is logged and recorded (manifest `details`, `ops.ingest_runs.message`).
- **Budget hook**: before every detail call a `CallGate` is asked whether the call may be made
  (`game_market_pipeline.budget`); when it says no, the run lands what it fetched and its manifest
  says `budget_exhausted`. The next run plans again from staging: nothing is lost or fetched twice.
- **Resumable**: the work list of a logical date is written to S3 first (`_details_plan.json`), and
  every landed part's checkpoint says how far the list got; a retried task continues there.
"""

from __future__ import annotations

import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from psycopg2 import sql

from game_market_pipeline.budget import CallGate, UnlimitedGate
from game_market_pipeline.config.models import ResolvedEndpoint, is_identifier
from game_market_pipeline.exceptions import ApiNotFoundError
from game_market_pipeline.ingest.bronze import BronzeStore
from game_market_pipeline.ingest.checker import Checker, RecordChecker
from game_market_pipeline.ingest.extract import ExtractResult
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.lander import PartLander
from game_market_pipeline.ingest.landing_contract import Checkpoint, DetailsSummary, Manifest
from game_market_pipeline.ingest.validate import ValidationStats

log = logging.getLogger(__name__)

PLAN_NAME = "_details_plan.json"
DETAILS_PER_PART = 200  # a retried task re-fetches at most this many details
STATUS_COMPLETE = "complete"  # every planned detail fetched; the backlog may still hold more (capped)
STATUS_BUDGET_EXHAUSTED = "budget_exhausted"


@dataclass(frozen=True)
class DetailTarget:
    record_key: str  # the staged list record's key
    parent_hash: str  # the list record's content hash: the version this detail is fetched for
    value: str  # what goes into the detail path's placeholder

    def to_json(self) -> list[str]:
        return [self.record_key, self.parent_hash, self.value]


def _ident(name: str) -> sql.Identifier:
    if not is_identifier(name):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return sql.Identifier(name)


def plan_details(
    conn: Any, endpoint: ResolvedEndpoint, raw_schema: str, ops_schema: str
) -> tuple[list[DetailTarget], int]:
    """This run's targets, most valuable first (at most `max_calls_per_run`), and the whole backlog's size."""
    details = endpoint.details_of
    assert details is not None
    parent_table = f"{endpoint.source}__{details.endpoint}"
    # ops.detail_fetches comes from the warehouse migrations (ops/0007), applied before any extract.
    with conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f'"{raw_schema}"."{parent_table}"',))
        if cur.fetchone()[0] is None:
            log.warning(
                "%s: %s.%s does not exist yet: no record to detail", endpoint.dag_id, raw_schema, parent_table
            )
            return [], 0
        # jsonb ordering: numbers numerically, ISO timestamps as text; a missing field sorts last.
        priority = [
            sql.SQL("l.payload -> {} DESC NULLS LAST").format(sql.Literal(f)) for f in details.priority
        ]
        query = sql.SQL("""
            WITH latest AS (
                SELECT DISTINCT ON (_record_key) _record_key, _content_hash, payload
                FROM {raw}.{parent}
                ORDER BY _record_key, _ingested_at DESC, _content_hash DESC
            )
            SELECT l._record_key, l._content_hash, l.payload ->> %(key)s, count(*) OVER ()
            FROM latest AS l
            LEFT JOIN {ops}.detail_fetches AS d
              ON d.source = %(source)s AND d.endpoint = %(endpoint)s AND d.record_key = l._record_key
            WHERE d.parent_hash IS DISTINCT FROM l._content_hash
            ORDER BY {order}
            LIMIT %(limit)s""").format(
            raw=_ident(raw_schema),
            parent=_ident(parent_table),
            ops=_ident(ops_schema),
            order=sql.SQL(", ").join([*priority, sql.SQL("l._record_key")]),
        )
        cur.execute(
            query,
            {
                "key": details.parent_key,
                "source": endpoint.source,
                "endpoint": endpoint.name,
                "limit": details.max_calls_per_run,
            },
        )
        rows = cur.fetchall()
    backlog = int(rows[0][3]) if rows else 0
    targets = [DetailTarget(key, digest, value) for key, digest, value, _ in rows if value not in (None, "")]
    return targets, backlog


def _detail_path(endpoint: ResolvedEndpoint, target: DetailTarget) -> str:
    assert endpoint.details_of is not None
    # The value is literal (ids like "exu-%3F" exist): encode all of it, once.
    return endpoint.path.replace("{" + endpoint.details_of.parent_key + "}", quote(target.value, safe=""))


def _load_or_write_plan(store: BronzeStore, plan: Any, ingest_date: date) -> tuple[list[DetailTarget], int]:
    key = store.loc.prefix + PLAN_NAME
    existing = store.get_json(key)
    if existing is not None:
        return [DetailTarget(*item) for item in existing["targets"]], int(existing["backlog"])
    targets, backlog = plan()
    store.put_json(
        key,
        json.dumps(
            {
                "ingest_date": ingest_date.isoformat(),
                "backlog": backlog,
                "targets": [t.to_json() for t in targets],
            }
        ).encode(),
    )
    return targets, backlog


@dataclass
class _DetailsWalk:
    """The work list of a details landing and how far it got (`done`: targets handled)."""

    targets: list[DetailTarget]
    backlog: int
    checkpoints: list[Checkpoint]
    next_part: int
    done: int
    status: str = STATUS_COMPLETE

    @property
    def previous_calls(self) -> int:
        return sum(c.api_calls for c in self.checkpoints)


def extract_details(
    endpoint: ResolvedEndpoint,
    client: ApiClient,
    store: BronzeStore,
    run_id: str,
    ingest_date: date,
    plan: Any,
    gate: CallGate | None = None,
    details_per_part: int = DETAILS_PER_PART,
) -> ExtractResult:
    """Land the details `plan()` names (a callable returning `plan_details`'s answer) in S3 bronze."""
    started = time.monotonic()
    existing = store.manifest()
    if existing is not None:
        log.info("%s: %s is already landed; nothing to fetch", endpoint.dag_id, ingest_date)
        return ExtractResult(
            store.loc.uri(store.loc.manifest_key), 0, True, existing.records, existing.invalid
        )
    assert endpoint.details_of is not None
    walk = _resume_details(store, plan, ingest_date)
    log.info(
        "%s: detail backlog %s; this run fetches up to %s (cap %s/run), from #%s",
        endpoint.dag_id,
        walk.backlog,
        len(walk.targets),
        endpoint.details_of.max_calls_per_run,
        walk.done,
    )
    checker = RecordChecker(endpoint, client.redactor)
    with (
        ThreadPoolExecutor(max_workers=endpoint.details_of.concurrency, thread_name_prefix="detail") as pool,
        PartLander(store, walk.next_part, on_failure=client.cancel) as lander,
    ):
        while walk.done < len(walk.targets) and walk.status == STATUS_COMPLETE:
            chunk = _granted(walk, gate or UnlimitedGate(), details_per_part)
            if not chunk:
                break
            _fetch_and_land(endpoint, client, pool, checker, lander, walk, chunk, gate)
    walk.checkpoints += lander.landed
    manifest = _details_manifest(
        endpoint, run_id, ingest_date, walk, client.calls, time.monotonic() - started
    )
    uri = store.write_manifest(manifest)
    summary = manifest.details
    assert summary is not None
    log.info(
        "%s: %s — %s details landed, %s gone (404), %s left in the backlog, %s API calls",
        endpoint.dag_id,
        walk.status,
        len(summary.fetched),
        len(summary.not_found),
        summary.backlog_after,
        client.calls,
    )
    return ExtractResult(uri, client.calls, False, manifest.records, manifest.invalid)


def _resume_details(store: BronzeStore, plan: Any, ingest_date: date) -> _DetailsWalk:
    targets, backlog = _load_or_write_plan(store, plan, ingest_date)
    checkpoints, highest_part = store.checkpoints()
    done = max((c.next_target or 0 for c in checkpoints), default=0)
    return _DetailsWalk(targets, backlog, checkpoints, highest_part + 1, done)


def _granted(walk: _DetailsWalk, gate: CallGate, details_per_part: int) -> list[DetailTarget]:
    """The next targets the budget allows calls for; fewer than asked ends the walk (the rest stays backlog)."""
    chunk = walk.targets[walk.done : walk.done + details_per_part]
    allowed = 0
    while allowed < len(chunk) and gate.acquire():
        allowed += 1
    if allowed < len(chunk):
        walk.status = STATUS_BUDGET_EXHAUSTED
    return chunk[:allowed]


def _fetch_and_land(
    endpoint: ResolvedEndpoint,
    client: ApiClient,
    pool: ThreadPoolExecutor,
    checker: Checker,
    lander: PartLander,
    walk: _DetailsWalk,
    chunk: list[DetailTarget],
    gate: CallGate | None,
) -> None:
    """One part: the chunk's details fetched, checked and landed; its checkpoint says how far the list got."""
    calls_before = client.calls
    try:
        results = list(pool.map(lambda t: _fetch_detail(client, endpoint, t), chunk))
    finally:
        # The granted calls were sent (and counted as sent): no longer outstanding.
        settle = getattr(gate, "settle", None)
        if settle is not None:
            settle(len(chunk))
    stats = ValidationStats()
    fetched = {t.record_key: t.parent_hash for t, body in results if body is not None}
    not_found = {t.record_key: t.parent_hash for t, body in results if body is None}
    lander.add(checker.check([body for _, body in results if body is not None], stats), walk.done + 1)
    walk.done += len(chunk)
    lander.close_part(
        {
            "next_target": walk.done,
            "fetched": fetched,
            "not_found": not_found,
            "stats": stats.counts(),
            "api_calls": client.calls - calls_before,
        }
    )


def _details_manifest(
    endpoint: ResolvedEndpoint, run_id: str, ingest_date: date, walk: _DetailsWalk, calls: int, seconds: float
) -> Manifest:
    assert endpoint.details_of is not None
    fetched_all: dict[str, str] = {}
    not_found_all: dict[str, str] = {}
    for checkpoint in walk.checkpoints:
        fetched_all.update(checkpoint.fetched)
        not_found_all.update(checkpoint.not_found)
    summary = DetailsSummary(
        status=walk.status,
        list_endpoint=endpoint.details_of.endpoint,
        backlog_before=walk.backlog,
        planned=len(walk.targets),
        fetched=fetched_all,
        not_found=not_found_all,
        backlog_after=max(0, walk.backlog - len(fetched_all) - len(not_found_all)),
    )
    return Manifest.completed(
        endpoint,
        ingest_date,
        run_id,
        walk.checkpoints,
        calls=calls,
        previous_calls=walk.previous_calls,
        seconds=seconds,
        pages=len(walk.checkpoints),
        details=summary,
    )


def _fetch_detail(
    client: ApiClient, endpoint: ResolvedEndpoint, target: DetailTarget
) -> tuple[DetailTarget, Any]:
    try:
        return target, client.get_json(_detail_path(endpoint, target))
    except ApiNotFoundError:
        # Gone between the listing and now: remembered as handled for this list version.
        return target, None


def record_detail_fetches(
    cur: Any, ops_schema: str, endpoint: ResolvedEndpoint, manifest: Manifest, run_id: str
) -> None:
    """In the staging load's transaction: the list versions whose details are now landed."""
    details = manifest.details
    if details is None:
        return
    rows = [(key, digest, "fetched") for key, digest in details.fetched.items()]
    rows += [(key, digest, "not_found") for key, digest in details.not_found.items()]
    if not rows:
        return
    from psycopg2.extras import execute_values

    execute_values(
        cur,
        sql.SQL("""
        INSERT INTO {}.detail_fetches (source, endpoint, record_key, parent_hash, outcome, ingest_date, run_id)
        VALUES %s
        ON CONFLICT (source, endpoint, record_key) DO UPDATE
        SET parent_hash = EXCLUDED.parent_hash, outcome = EXCLUDED.outcome, ingest_date = EXCLUDED.ingest_date,
            run_id = EXCLUDED.run_id, fetched_at = now()""")
        .format(_ident(ops_schema))
        .as_string(cur),
        [
            (endpoint.source, endpoint.name, key, digest, outcome, manifest.ingest_date, run_id)
            for key, digest, outcome in rows
        ],
    )


def run_message(manifest: Manifest) -> tuple[str | None, str | None]:
    """(status override, message) for ops.ingest_runs of a details landing."""
    details = manifest.details
    if details is None:
        return None, None
    message = (
        f"details: {len(details.fetched)} fetched, {len(details.not_found)} gone, "
        f"backlog {details.backlog_before} -> {details.backlog_after}"
    )
    return (details.status if details.status == STATUS_BUDGET_EXHAUSTED else None), message
