"""Warehouse content for the Data health tests, written through the pipeline's own code paths.

- ingestion: the real extract (replay server over HTTP -> moto S3) and load (-> Postgres) of two
  endpoints on two days; on the second day the replay server turns one RAWG genre's `id` into an object
  (`wrong_type`), so exactly one record is quarantined;
- quality: `quality.store.record_results` / `record_verdict` for three builds: the first two pass
  (the second with a warning), the third fails an `error` check;
- production: `promotion.swap.prepare_audit` / `promote` for the two passing builds, so production
  serves BUILD_2 and the rollback target is BUILD_1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg2

from game_market_pipeline.config.quality import Severity
from game_market_pipeline.promotion.swap import WapSchemas, prepare_audit, promote
from game_market_pipeline.quality.checks import CheckResult
from game_market_pipeline.quality.store import (
    build_verdict,
    ensure_quality_tables,
    record_results,
    record_verdict,
)

DAY_1 = date(2026, 11, 19)
DAY_2 = date(2026, 11, 20)
BUILD_1 = "scheduled__2026-11-19T00:00:00+00:00"
BUILD_2 = "scheduled__2026-11-20T00:00:00+00:00"
BUILD_3 = "manual__2026-11-20T12:00:00+00:00"
FAILING_ERROR_CHECK = "fact_games.row_count"
FAILING_WARN_CHECK = "fact_games.null_rate.released_on"
SCHEMAS = WapSchemas("analytics_audit", "analytics", "analytics_previous")


def ingest_run_id(day: date) -> str:
    return f"scheduled__{day.isoformat()}T00:00:00+00:00"


@dataclass(frozen=True)
class Seeded:
    quarantined_key: str | None  # the bad record's key as stored (None: it had no usable key)
    quarantined_s3_prefix: str


def seed_ingestion(harness, replay) -> Seeded:
    """Two days of rawg.genres and tcgdex.series; day 2 of rawg.genres has one bad record."""
    # The threshold is raised for this endpoint so one bad record of 19 still loads the other 18.
    genres = harness.endpoint("rawg", "genres", quarantine_threshold=0.5)
    series = harness.endpoint("tcgdex", "series")
    for day in (DAY_1, DAY_2):
        if day == DAY_2:
            replay.add_fault(path="/genres", kind="wrong_type", times=1)
        harness.run(genres, day, ingest_run_id(day))
        harness.run(series, day, ingest_run_id(day))
    rows = harness.query(
        "SELECT record_key, s3_uri FROM raw.quarantine WHERE source = 'rawg' AND endpoint = 'genres'"
    )
    assert len(rows) == 1, rows
    return Seeded(rows[0][0], rows[0][1].rsplit("/", 1)[0])


def _result(check_id: str, kind: str, passed: bool, observed: float, threshold: float, comparison: str,
            severity: Severity = Severity.ERROR, column: str | None = None) -> CheckResult:  # fmt: skip
    return CheckResult(
        check_id, kind, "fact_games", severity, passed, observed, threshold, comparison, column, None
    )


def _results(build: str) -> list[CheckResult]:
    failing_rows = build == BUILD_3
    warn = build in (BUILD_2, BUILD_3)
    return [
        _result(FAILING_ERROR_CHECK, "row_count", not failing_rows, 0 if failing_rows else 812, 1, ">="),
        _result(
            FAILING_WARN_CHECK,
            "null_rate",
            not warn,
            0.41 if warn else 0.12,
            0.3,
            "<=",
            Severity.WARN,
            "released_on",
        ),
        _result("fact_games.unique.game_id", "unique", True, 0, 0, "<="),
    ]


def seed_quality_and_production(pg_url: str) -> None:
    conn = psycopg2.connect(pg_url)
    try:
        ensure_quality_tables(conn)
        for build in (BUILD_1, BUILD_2, BUILD_3):
            results = _results(build)
            record_results(conn, build, results)
            verdict = build_verdict(conn, build, [r.check_id for r in results])
            record_verdict(conn, verdict)
            if verdict.passed:
                prepare_audit(conn, build, SCHEMAS)
                with conn.cursor() as cur:  # the build's one "model"
                    cur.execute(
                        "CREATE TABLE analytics_audit.fact_games AS SELECT %s::text AS build", (build,)
                    )
                conn.commit()
                promote(conn, build, SCHEMAS, checks_summary=verdict.summary(), requested_by=build)
    finally:
        conn.close()


def production_build(pg_url: str) -> str | None:
    from game_market_pipeline.promotion.swap import schema_builds

    conn = psycopg2.connect(pg_url)
    try:
        return schema_builds(conn, SCHEMAS)["production"]
    finally:
        conn.close()
