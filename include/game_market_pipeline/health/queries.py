"""Read-only queries behind the Data health page: one `collect()` call, one snapshot (`HealthReport`).

Reads only these tables and columns (each table may be missing: a fresh warehouse shows "nothing yet"):
- ops.ingest_runs: run_id, source, endpoint, ingest_date, status, records, loaded, quarantined, api_calls,
  started_at, finished_at, message, id
- raw.quarantine: source, endpoint, run_id, ingest_date, record_key, errors, s3_uri, quarantined_at, id
- ops.quality_verdicts: build_id, verdict, checks_total, failed_errors, failed_warnings, decided_at, id
- ops.quality_results: build_id, check_id, check_kind, table_name, column_name, observed, threshold,
  comparison, severity, passed, detail, evaluated_at, id
- ops.promotions: id, action, build_id, previous_build_id, promoted_at, requested_by
- the write-audit-publish marker tables (promotion.swap.schema_builds): which build each schema holds.
Everything runs in one read-only transaction, so the sections agree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg2 import sql

from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS, WarehouseSchemas

# Statuses after which the endpoint's data for that date is in its staging table.
LANDED_STATUSES = ("loaded", "skipped_already_loaded")
CHART_DAYS = 14
QUARANTINE_ROWS_PER_ENDPOINT = 5
CHECK_HISTORY_BUILDS = 10
PROMOTION_HISTORY_ROWS = 20
# A source counts as late once its newest landing is older than its schedule's interval plus this share
# of it (a daily endpoint whose run takes a few hours is not late yet).
FRESHNESS_GRACE = 0.5

_PRESET_INTERVALS = {
    "@hourly": timedelta(hours=1),
    "@daily": timedelta(days=1),
    "@midnight": timedelta(days=1),
    "@weekly": timedelta(weeks=1),
    "@monthly": timedelta(days=31),
    "@quarterly": timedelta(days=92),
    "@yearly": timedelta(days=366),
    "@annually": timedelta(days=366),
}


@dataclass(frozen=True)
class EndpointSpec:
    """What the config says about an endpoint (so never-run endpoints are listed too)."""

    source: str
    endpoint: str
    dag_id: str
    schedule: str | None


@dataclass(frozen=True)
class DayPoint:
    ingest_date: date
    records: int
    quarantined: int

    @property
    def quarantine_share(self) -> float:
        return self.quarantined / self.records if self.records else 0.0


@dataclass(frozen=True)
class Freshness:
    state: str  # fresh | late | never | unscheduled
    age: timedelta | None
    expected_every: timedelta | None


@dataclass
class EndpointHealth:
    spec: EndpointSpec
    run_id: str | None = None
    ingest_date: date | None = None
    status: str | None = None
    records: int = 0
    new_rows: int = 0
    quarantined: int = 0
    api_calls: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    top_reason: str | None = None
    top_reason_count: int = 0
    last_landed_at: datetime | None = None
    freshness: Freshness = Freshness("never", None, None)
    days: list[DayPoint] = field(default_factory=list)


@dataclass(frozen=True)
class CheckOutcome:
    build_id: str
    check_id: str
    kind: str
    table: str
    column: str | None
    observed: float | None
    threshold: float | None
    comparison: str | None
    severity: str
    passed: bool
    detail: str | None
    evaluated_at: datetime


@dataclass(frozen=True)
class VerdictRow:
    build_id: str
    verdict: str
    checks_total: int
    failed_errors: int
    failed_warnings: int
    decided_at: datetime


@dataclass
class QualityHealth:
    latest: VerdictRow | None = None
    not_passed: list[CheckOutcome] = field(default_factory=list)  # of the latest verdict's build
    history: dict[str, list[CheckOutcome]] = field(default_factory=dict)  # check_id -> newest first
    recent_verdicts: list[VerdictRow] = field(default_factory=list)


@dataclass(frozen=True)
class PromotionRow:
    id: int
    action: str
    build_id: str
    previous_build_id: str | None
    promoted_at: datetime
    requested_by: str | None


@dataclass
class ProductionHealth:
    production_build: str | None = None
    previous_build: str | None = None  # the rollback target
    audit_build: str | None = None  # a build between prepare and promotion blocks the rollback
    current: PromotionRow | None = None  # the row that put production_build in place
    history: list[PromotionRow] = field(default_factory=list)

    @property
    def can_roll_back(self) -> bool:
        return self.previous_build is not None and self.audit_build is None


@dataclass(frozen=True)
class QuarantinedRecord:
    source: str
    endpoint: str
    run_id: str
    ingest_date: date
    record_key: str | None
    reasons: tuple[str, ...]
    s3_uri: str
    quarantined_at: datetime


@dataclass
class HealthReport:
    generated_at: datetime
    endpoints: list[EndpointHealth]
    quality: QualityHealth
    production: ProductionHealth
    quarantine: dict[tuple[str, str], list[QuarantinedRecord]]
    budgets: list[BudgetHealth] = field(default_factory=list)


@dataclass(frozen=True)
class SourceBudget:
    """A source's call budget from the config (`budget:`); None = no limit of that kind."""

    source: str
    calls_per_day: int | None
    calls_per_month: int | None


@dataclass(frozen=True)
class BudgetHealth:
    budget: SourceBudget
    calls_today: int  # every attempt sent to the source this UTC day (ops.api_calls)
    calls_this_month: int

    @property
    def left_today(self) -> int | None:
        per_day = self.budget.calls_per_day
        return None if per_day is None else max(0, per_day - self.calls_today)

    @property
    def left_this_month(self) -> int | None:
        per_month = self.budget.calls_per_month
        return None if per_month is None else max(0, per_month - self.calls_this_month)


@dataclass(frozen=True)
class HealthSettings:
    schemas: WarehouseSchemas = DEFAULT_SCHEMAS
    budgets: tuple[SourceBudget, ...] = ()


def error_summary(error: dict[str, Any]) -> str:
    """`<field path>: <message>` of one pydantic-style error (the form the ingestion logs them in)."""
    loc = ".".join(str(p) for p in error.get("loc", ())) or "<record>"
    return f"{loc}: {error.get('msg')}"


def schedule_interval(schedule: str | None, now: datetime) -> timedelta | None:
    """The time between two runs of `schedule` (a preset or a cron expression); None: not periodic."""
    if not schedule or schedule in ("@once", "@continuous"):
        return None
    if schedule in _PRESET_INTERVALS:
        return _PRESET_INTERVALS[schedule]
    try:
        from croniter import croniter

        it = croniter(schedule, now)
        first = it.get_next(datetime)
        interval: timedelta = it.get_next(datetime) - first
        return interval
    except (ImportError, ValueError, KeyError):
        return None


def freshness(schedule: str | None, last_landed_at: datetime | None, now: datetime) -> Freshness:
    every = schedule_interval(schedule, now)
    if last_landed_at is None:
        return Freshness("never", None, every)
    age = now - last_landed_at
    if every is None:
        return Freshness("unscheduled", age, None)
    return Freshness("fresh" if age <= every * (1 + FRESHNESS_GRACE) else "late", age, every)


def _existing(cur: Any, *relations: str) -> set[str]:
    found = set()
    for relation in relations:
        cur.execute("SELECT to_regclass(%s)", (relation,))
        if cur.fetchone()[0] is not None:
            found.add(relation)
    return found


def collect(
    conn: Any, endpoints: list[EndpointSpec], settings: HealthSettings, now: datetime | None = None
) -> HealthReport:
    """Everything the page shows, read in one read-only transaction."""
    now = now or datetime.now(UTC)
    ops, raw = settings.schemas.ops, settings.schemas.raw
    names = {
        "runs": f"{ops}.ingest_runs",
        "quarantine": f"{raw}.quarantine",
        "verdicts": f"{ops}.quality_verdicts",
        "results": f"{ops}.quality_results",
        "promotions": f"{ops}.promotions",
        "api_calls": f"{ops}.api_calls",
    }
    old_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            present = _existing(cur, *names.values())
            have = {key for key, rel in names.items() if rel in present}
            report = HealthReport(
                generated_at=now,
                endpoints=_endpoints(cur, endpoints, settings, have, now),
                quality=_quality(cur, settings, have),
                production=_production(cur, settings, have),
                quarantine=_quarantine(cur, settings, have),
                budgets=_budgets(cur, settings, have, now),
            )
    finally:
        conn.rollback()
        conn.autocommit = old_autocommit
    return report


def _budgets(cur: Any, settings: HealthSettings, have: set[str], now: datetime) -> list[BudgetHealth]:
    """Calls sent per budgeted source today and this month (UTC), as the shared budget counts them."""
    if not settings.budgets:
        return []
    used: dict[str, tuple[int, int]] = {}
    if "api_calls" in have:
        today = now.astimezone(UTC).date()
        cur.execute(
            sql.SQL("""
            SELECT source, coalesce(sum(calls) FILTER (WHERE day = %s), 0), coalesce(sum(calls), 0)
            FROM {}.api_calls WHERE day BETWEEN %s AND %s GROUP BY source""").format(
                sql.Identifier(settings.schemas.ops)
            ),
            (today, today.replace(day=1), today),
        )
        used = {source: (int(day), int(month)) for source, day, month in cur.fetchall()}
    return [
        BudgetHealth(b, *used.get(b.source, (0, 0))) for b in sorted(settings.budgets, key=lambda b: b.source)
    ]


def _endpoints(
    cur: Any, specs: list[EndpointSpec], settings: HealthSettings, have: set[str], now: datetime
) -> list[EndpointHealth]:
    rows = {(s.source, s.endpoint): EndpointHealth(s) for s in specs}
    if "runs" not in have:
        for unrun in rows.values():
            unrun.freshness = freshness(unrun.spec.schedule, None, now)
        return list(rows.values())
    ops = sql.Identifier(settings.schemas.ops)
    cur.execute(
        sql.SQL("""
        SELECT DISTINCT ON (source, endpoint) source, endpoint, run_id, ingest_date, status, records, loaded,
               quarantined, api_calls, started_at, finished_at, message
        FROM {}.ingest_runs ORDER BY source, endpoint, finished_at DESC, id DESC""").format(ops)
    )
    for source, endpoint, *values in cur.fetchall():
        row = rows.get((source, endpoint))
        if row is None:  # an endpoint since removed from the config: still worth seeing
            row = rows[(source, endpoint)] = EndpointHealth(
                EndpointSpec(source, endpoint, f"ingest__{source}__{endpoint}", None)
            )
        (row.run_id, row.ingest_date, row.status, row.records, row.new_rows, row.quarantined,
         row.api_calls, row.started_at, row.finished_at, row.message) = values  # fmt: skip
    cur.execute(
        sql.SQL(
            "SELECT source, endpoint, max(finished_at) FROM {}.ingest_runs WHERE status = ANY(%s) GROUP BY 1, 2"
        ).format(ops),
        (list(LANDED_STATUSES),),
    )
    landed = {(s, e): at for s, e, at in cur.fetchall()}
    # The chart: per endpoint and ingest date the newest run, over the endpoint's latest CHART_DAYS dates.
    cur.execute(
        sql.SQL("""
        SELECT source, endpoint, ingest_date, records, quarantined FROM (
            SELECT source, endpoint, ingest_date, records, quarantined,
                   dense_rank() OVER (PARTITION BY source, endpoint ORDER BY ingest_date DESC) AS age
            FROM (SELECT DISTINCT ON (source, endpoint, ingest_date) source, endpoint, ingest_date, records,
                         quarantined
                  FROM {}.ingest_runs WHERE status <> 'skipped_already_loaded'
                  ORDER BY source, endpoint, ingest_date, finished_at DESC, id DESC) AS newest
        ) AS ranked WHERE age <= %s ORDER BY source, endpoint, ingest_date""").format(ops),
        (CHART_DAYS,),
    )
    days: dict[tuple[str, str], list[DayPoint]] = defaultdict(list)
    for source, endpoint, day, records, quarantined in cur.fetchall():
        days[(source, endpoint)].append(DayPoint(day, records, quarantined))
    reasons = _top_reasons(cur, settings) if "quarantine" in have else {}
    for key, row in rows.items():
        row.last_landed_at = landed.get(key)
        row.freshness = freshness(row.spec.schedule, row.last_landed_at, now)
        row.days = days.get(key, [])
        if row.ingest_date is not None and (key, row.ingest_date) in reasons:
            row.top_reason, row.top_reason_count = reasons[(key, row.ingest_date)]
    return sorted(rows.values(), key=lambda r: (r.spec.source, r.spec.endpoint))


def _top_reasons(cur: Any, settings: HealthSettings) -> dict[tuple[tuple[str, str], date], tuple[str, int]]:
    """The most common first validation error per endpoint, for its latest run's ingest date."""
    cur.execute(
        sql.SQL("""
        WITH latest AS (
            SELECT DISTINCT ON (source, endpoint) source, endpoint, ingest_date
            FROM {ops}.ingest_runs ORDER BY source, endpoint, finished_at DESC, id DESC
        )
        SELECT q.source, q.endpoint, q.ingest_date, q.errors -> 0, count(*) AS n
        FROM {raw}.quarantine AS q JOIN latest USING (source, endpoint, ingest_date)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, n DESC""").format(
            ops=sql.Identifier(settings.schemas.ops), raw=sql.Identifier(settings.schemas.raw)
        )
    )
    out: dict[tuple[tuple[str, str], date], tuple[str, int]] = {}
    for source, endpoint, day, first_error, count in cur.fetchall():
        reason = error_summary(first_error) if isinstance(first_error, dict) else "unknown"
        key = ((source, endpoint), day)
        if key in out:  # several errors with the same summary (e.g. other input): add them up
            if out[key][0] == reason:
                out[key] = (reason, out[key][1] + count)
            continue
        out[key] = (reason, count)
    return out


def _check(row: tuple[Any, ...]) -> CheckOutcome:
    return CheckOutcome(*row)


_CHECK_COLUMNS = (
    "build_id, check_id, check_kind, table_name, column_name, observed, threshold, comparison, severity, "
    "passed, detail, evaluated_at"
)


def _quality(cur: Any, settings: HealthSettings, have: set[str]) -> QualityHealth:
    quality = QualityHealth()
    ops = sql.Identifier(settings.schemas.ops)
    if "verdicts" in have:
        cur.execute(
            sql.SQL(
                "SELECT build_id, verdict, checks_total, failed_errors, failed_warnings, decided_at "
                "FROM {}.quality_verdicts ORDER BY id DESC LIMIT %s"
            ).format(ops),
            (CHECK_HISTORY_BUILDS,),
        )
        quality.recent_verdicts = [VerdictRow(*row) for row in cur.fetchall()]
        quality.latest = quality.recent_verdicts[0] if quality.recent_verdicts else None
    if "results" not in have or quality.latest is None:
        return quality
    # The result that counts is the newest evaluation of each check of a build (as ops.quality_latest).
    cur.execute(
        sql.SQL(
            "SELECT * FROM (SELECT DISTINCT ON (check_id) " + _CHECK_COLUMNS + " FROM {}.quality_results "
            "WHERE build_id = %s ORDER BY check_id, id DESC) AS latest WHERE NOT passed "
            "ORDER BY severity, check_id"
        ).format(ops),
        (quality.latest.build_id,),
    )
    quality.not_passed = [_check(row) for row in cur.fetchall()]
    if quality.not_passed:
        cur.execute(
            sql.SQL("""
            SELECT * FROM (
                SELECT {cols}, row_number() OVER (PARTITION BY check_id ORDER BY evaluated_at DESC) AS age
                FROM (SELECT DISTINCT ON (build_id, check_id) {cols} FROM {ops}.quality_results
                      WHERE check_id = ANY(%s) ORDER BY build_id, check_id, id DESC) AS per_build
            ) AS ranked WHERE age <= %s ORDER BY check_id, evaluated_at DESC""").format(
                cols=sql.SQL(_CHECK_COLUMNS), ops=ops
            ),
            ([c.check_id for c in quality.not_passed], CHECK_HISTORY_BUILDS),
        )
        for row in cur.fetchall():
            quality.history.setdefault(row[1], []).append(_check(row[:-1]))
    return quality


def _production(cur: Any, settings: HealthSettings, have: set[str]) -> ProductionHealth:
    from game_market_pipeline.promotion.swap import build_marker

    production = ProductionHealth(
        production_build=build_marker(cur, settings.schemas.production),
        previous_build=build_marker(cur, settings.schemas.previous),
        audit_build=build_marker(cur, settings.schemas.audit),
    )
    if "promotions" not in have:
        return production
    cur.execute(
        sql.SQL(
            "SELECT id, action, build_id, previous_build_id, promoted_at, requested_by "
            "FROM {}.promotions ORDER BY id DESC LIMIT %s"
        ).format(sql.Identifier(settings.schemas.ops)),
        (PROMOTION_HISTORY_ROWS,),
    )
    production.history = [PromotionRow(*row) for row in cur.fetchall()]
    production.current = next(
        (p for p in production.history if p.build_id == production.production_build), None
    )
    return production


def _quarantine(
    cur: Any, settings: HealthSettings, have: set[str]
) -> dict[tuple[str, str], list[QuarantinedRecord]]:
    if "quarantine" not in have:
        return {}
    cur.execute(
        sql.SQL("""
        SELECT source, endpoint, run_id, ingest_date, record_key, errors, s3_uri, quarantined_at FROM (
            SELECT *, row_number() OVER (PARTITION BY source, endpoint ORDER BY quarantined_at DESC, id DESC) AS age
            FROM {}.quarantine
        ) AS ranked WHERE age <= %s ORDER BY source, endpoint, quarantined_at DESC, id DESC""").format(
            sql.Identifier(settings.schemas.raw)
        ),
        (QUARANTINE_ROWS_PER_ENDPOINT,),
    )
    out: dict[tuple[str, str], list[QuarantinedRecord]] = defaultdict(list)
    for source, endpoint, run_id, day, key, errors, s3_uri, at in cur.fetchall():
        reasons = (
            tuple(error_summary(e) for e in errors if isinstance(e, dict)) if isinstance(errors, list) else ()
        )
        out[(source, endpoint)].append(
            QuarantinedRecord(source, endpoint, run_id, day, key, reasons or ("unknown",), s3_uri, at)
        )
    return dict(out)
