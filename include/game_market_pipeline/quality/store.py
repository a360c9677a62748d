"""The quality history in Postgres: `ops.quality_results`, `ops.quality_verdicts`, `ops.dbt_run_results`.

Append-only: re-evaluating a check adds a row; "the result of a check for a build" is its newest row
(`ops.quality_latest`). Users query and chart the history straight from these tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extras import Json, execute_values

from game_market_pipeline.config.quality import Severity
from game_market_pipeline.quality.checks import CheckResult
from game_market_pipeline.warehouse.migrate import ensure_migrated
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS


def ensure_quality_tables(conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops) -> None:
    """The quality tables exist: the warehouse migrations are applied (warehouse/migrate.py).

    Cheap when they are (the gate calls it on every poke): two small reads, no DDL, so no lock on
    the view readers use.
    """
    ensure_migrated(conn, ops_schema)


def record_results(
    conn: Any, build_id: str, results: Iterable[CheckResult], ops_schema: str = DEFAULT_SCHEMAS.ops
) -> int:
    rows = [
        (
            build_id,
            r.check_id,
            r.kind,
            r.table,
            r.column,
            r.observed,
            r.threshold,
            r.comparison,
            r.severity.value,
            r.passed,
            r.detail,
        )
        for r in results
    ]
    if not rows:
        return 0
    with conn.cursor() as cur:
        execute_values(
            cur,
            sql.SQL(
                "INSERT INTO {}.quality_results (build_id, check_id, check_kind, table_name, column_name, "
                "observed, "
                "threshold, comparison, severity, passed, detail) VALUES %s"
            )
            .format(sql.Identifier(ops_schema))
            .as_string(cur.connection),
            rows,
        )
    conn.commit()
    return len(rows)


def latest_results(conn: Any, build_id: str, ops_schema: str = DEFAULT_SCHEMAS.ops) -> list[CheckResult]:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT check_id, check_kind, table_name, severity, passed, observed, threshold, comparison, "
                "column_name, detail FROM {}.quality_latest WHERE build_id = %s ORDER BY check_id"
            ).format(sql.Identifier(ops_schema)),
            (build_id,),
        )
        rows = cur.fetchall()
    conn.rollback()
    return [CheckResult(r[0], r[1], r[2], Severity(r[3]), r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]


@dataclass(frozen=True)
class Verdict:
    build_id: str
    results: tuple[CheckResult, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def failed_errors(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed and r.severity == Severity.ERROR)

    @property
    def failed_warnings(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if not r.passed and r.severity == Severity.WARN)

    @property
    def passed(self) -> bool:
        return self.complete and not self.failed_errors

    def summary(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "verdict": "passed" if self.passed else "failed",
            "checks_total": len(self.results),
            "failed_errors": len(self.failed_errors),
            "failed_warnings": len(self.failed_warnings),
            "failures": [_failure(r) for r in self.failed_errors + self.failed_warnings],
        }

    def failure_message(self) -> str:
        lines = [
            f"quality gate failed for build {self.build_id}: {len(self.failed_errors)} error check(s) failed"
        ]
        lines += [f"  - {r.describe()}" for r in self.failed_errors]
        return "\n".join(lines)

    def warning_message(self) -> str:
        lines = [
            f"quality warnings for build {self.build_id}: {len(self.failed_warnings)} warn check(s) failed"
        ]
        lines += [f"  - {r.describe()}" for r in self.failed_warnings]
        return "\n".join(lines)


def _failure(r: CheckResult) -> dict[str, Any]:
    return {
        "check_id": r.check_id,
        "table": r.table,
        "severity": r.severity.value,
        "observed": r.observed,
        "threshold": r.threshold,
        "comparison": r.comparison,
        "detail": r.detail,
    }


def build_verdict(
    conn: Any, build_id: str, expected_check_ids: Sequence[str], ops_schema: str = DEFAULT_SCHEMAS.ops
) -> Verdict:
    """The build's results against the checks it must have: missing ones make it incomplete."""
    results = latest_results(conn, build_id, ops_schema)
    present = {r.check_id for r in results}
    missing = tuple(c for c in expected_check_ids if c not in present)
    return Verdict(build_id, tuple(results), missing)


def record_verdict(conn: Any, verdict: Verdict, ops_schema: str = DEFAULT_SCHEMAS.ops) -> None:
    s = verdict.summary()
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.quality_verdicts (build_id, verdict, checks_total, failed_errors, "
                "failed_warnings, "
                "failures) VALUES (%s, %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(ops_schema)),
            (
                s["build_id"],
                s["verdict"],
                s["checks_total"],
                s["failed_errors"],
                s["failed_warnings"],
                Json(s["failures"]),
            ),
        )
    conn.commit()


def record_dbt_run_results(
    conn: Any,
    build_id: str,
    run_results: dict[str, Any],
    task_id: str | None = None,
    ops_schema: str = DEFAULT_SCHEMAS.ops,
) -> None:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.dbt_run_results (build_id, task_id, run_results) VALUES (%s, %s, %s)"
            ).format(sql.Identifier(ops_schema)),
            (build_id, task_id, Json(run_results, dumps=json.dumps)),
        )
    conn.commit()


def stored_dbt_run_results(
    conn: Any, build_id: str, ops_schema: str = DEFAULT_SCHEMAS.ops
) -> list[dict[str, Any]]:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT run_results FROM {}.dbt_run_results WHERE build_id = %s ORDER BY id").format(
                sql.Identifier(ops_schema)
            ),
            (build_id,),
        )
        rows = [r[0] for r in cur.fetchall()]
    conn.rollback()
    return rows
