"""Plan the declared checks (config → `CheckSpec`s) and evaluate them with SQL on Postgres.

A plan is pure and deterministic: the gate recomputes it to know which results a build must have.
Evaluation reads one consistent snapshot (REPEATABLE READ, read only); a check that cannot be
evaluated (missing table or column, no ingestion run) fails with the reason in `detail`, it never
crashes the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from psycopg2 import sql

from game_market_pipeline.config.quality import QualityConfig, Severity, StagingChecks, TableChecks
from game_market_pipeline.exceptions import ConfigProblem
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS

log = logging.getLogger(__name__)

DBT_BUILD_CHECK_ID = "dbt.build"


class CheckKind(StrEnum):
    ROW_COUNT = "row_count"
    RELATIVE_CHANGE = "relative_change"
    NULL_RATE = "null_rate"
    UNIQUE = "unique"
    RELATIONSHIPS = "relationships"
    FRESHNESS = "freshness"
    QUARANTINE_RATE = "quarantine_rate"
    DBT_TEST = "dbt_test"
    DBT_BUILD = "dbt_build"


class Comparison(StrEnum):
    AT_LEAST = ">="
    AT_MOST = "<="


# The namespace of staging tables in check ids and results (`raw.<source>__<endpoint>.row_count`): a
# stable label, whatever warehouse.raw_schema is; the checks themselves query the configured schema.
STAGING_TAG = "raw."


@dataclass(frozen=True)
class CheckSpec:
    """One check to evaluate; `check_id` is unique within a build and stable across builds (for charts)."""

    check_id: str
    kind: CheckKind
    table: str  # a model name, or `raw.<source>__<endpoint>` for staging tables
    severity: Severity
    threshold: float
    comparison: Comparison
    column: str | None = None
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str) -> Any:
        return dict(self.params)[name]

    @property
    def is_staging(self) -> bool:
        return self.table.startswith(STAGING_TAG)

    @property
    def table_name(self) -> str:
        return self.table.split(".", 1)[1] if self.is_staging else self.table


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    kind: str
    table: str
    severity: Severity
    passed: bool
    observed: float | None
    threshold: float | None
    comparison: str | None = None
    column: str | None = None
    detail: str | None = None

    @classmethod
    def of(
        cls, spec: CheckSpec, observed: float | None, passed: bool, detail: str | None = None
    ) -> CheckResult:
        return cls(
            spec.check_id,
            spec.kind.value,
            spec.table,
            spec.severity,
            passed,
            observed,
            spec.threshold,
            spec.comparison.value,
            spec.column,
            detail,
        )

    def describe(self) -> str:
        observed = "n/a" if self.observed is None else f"{self.observed:g}"
        threshold = (
            "" if self.threshold is None else f", threshold {self.comparison or ''} {self.threshold:g}"
        )
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.check_id} [{self.severity}] on {self.table}: observed {observed}{threshold}{detail}"


@dataclass(frozen=True)
class EvaluationContext:
    """Where the tables of one evaluation live."""

    build_schema: str  # the audit schema being verified
    production_schema: str  # baseline of `relative_change`
    raw_schema: str = DEFAULT_SCHEMAS.raw
    ops_schema: str = DEFAULT_SCHEMAS.ops


@dataclass(frozen=True)
class QualityPlan:
    specs: tuple[CheckSpec, ...]
    problems: tuple[ConfigProblem, ...] = field(default=())
    dbt_build_check: bool = True
    dbt_build_severity: Severity = Severity.ERROR
    # Warnings: staging checks skipped because their endpoint's config did not load.
    skipped: tuple[str, ...] = ()

    @property
    def expected_check_ids(self) -> tuple[str, ...]:
        ids = tuple(s.check_id for s in self.specs)
        return ids + ((DBT_BUILD_CHECK_ID,) if self.dbt_build_check else ())


def _table_specs(table: str, checks: TableChecks, default: Severity) -> list[CheckSpec]:
    def sev(check: Any) -> Severity:
        return check.severity or default

    specs: list[CheckSpec] = []
    if checks.row_count:
        specs.append(
            CheckSpec(
                f"{table}.row_count",
                CheckKind.ROW_COUNT,
                table,
                sev(checks.row_count),
                float(checks.row_count.min),
                Comparison.AT_LEAST,
            )
        )
    if checks.relative_change:
        specs.append(
            CheckSpec(
                f"{table}.relative_change",
                CheckKind.RELATIVE_CHANGE,
                table,
                sev(checks.relative_change),
                checks.relative_change.max,
                Comparison.AT_MOST,
                params=(("direction", checks.relative_change.direction.value),),
            )
        )
    for nr in checks.null_rate:
        specs.append(
            CheckSpec(
                f"{table}.null_rate.{nr.column}",
                CheckKind.NULL_RATE,
                table,
                sev(nr),
                nr.max,
                Comparison.AT_MOST,
                column=nr.column,
            )
        )
    for un in checks.unique:
        cols = ",".join(un.columns)
        specs.append(
            CheckSpec(
                f"{table}.unique.{cols}",
                CheckKind.UNIQUE,
                table,
                sev(un),
                0.0,
                Comparison.AT_MOST,
                column=cols,
                params=(("columns", un.columns),),
            )
        )
    for rel in checks.relationships:
        specs.append(
            CheckSpec(
                f"{table}.relationships.{rel.column}->{rel.to}.{rel.field}",
                CheckKind.RELATIONSHIPS,
                table,
                sev(rel),
                float(rel.max_orphans),
                Comparison.AT_MOST,
                column=rel.column,
                params=(("to", rel.to), ("field", rel.field)),
            )
        )
    if checks.freshness:
        specs.append(
            CheckSpec(
                f"{table}.freshness",
                CheckKind.FRESHNESS,
                table,
                sev(checks.freshness),
                checks.freshness.max_age_hours,
                Comparison.AT_MOST,
                column=checks.freshness.column,
            )
        )
    return specs


def plan_checks(
    quality: QualityConfig,
    endpoint_thresholds: dict[str, float] | None = None,
    config_file: str = "<config>",
    left_out_tables: Collection[str] = (),
) -> QualityPlan:
    """Every check the config declares. `endpoint_thresholds`: `<source>__<endpoint>` → quarantine threshold.

    With `endpoint_thresholds`, staging entries naming no configured endpoint are reported as problems,
    except those of `left_out_tables` (endpoints in the config whose own config has a problem, reported
    where the endpoints are): their checks are skipped with a warning, the other checks still run.
    """
    default = quality.defaults.severity
    specs: list[CheckSpec] = []
    problems: list[ConfigProblem] = []
    skipped: list[str] = []
    for model, checks in sorted(quality.models.items()):
        specs += _table_specs(model, checks, default)
    for table, staging in sorted(quality.staging.items()):
        if endpoint_thresholds is not None and table not in endpoint_thresholds and table in left_out_tables:
            skipped.append(
                f"{config_file}, field 'quality.staging.{table}': checks skipped, "
                f"the endpoint's config has a problem (see the config's import error)"
            )
            log.warning("%s", skipped[-1])
            continue
        if endpoint_thresholds is not None and table not in endpoint_thresholds:
            problems.append(
                ConfigProblem(
                    config_file,
                    None,
                    None,
                    f"quality.staging.{table}",
                    "no configured endpoint has this staging table "
                    f"(known: {', '.join(sorted(endpoint_thresholds))})",
                )
            )
            continue
        specs += _table_specs(f"{STAGING_TAG}{table}", staging, default)
        specs += _staging_specs(table, staging, default, (endpoint_thresholds or {}).get(table))
    return QualityPlan(
        tuple(specs),
        tuple(problems),
        quality.dbt_tests.enabled,
        quality.dbt_tests.build_severity,
        tuple(skipped),
    )


def _staging_specs(
    table: str,
    checks: StagingChecks,
    default: Severity,
    endpoint_max: float | None,
) -> list[CheckSpec]:
    qr = checks.quarantine_rate
    if qr is None:
        return []
    threshold = qr.max if qr.max is not None else endpoint_max
    if threshold is None:
        threshold = 0.05  # the loader's default quarantine threshold
    source, _, endpoint = table.partition("__")
    return [
        CheckSpec(
            f"{STAGING_TAG}{table}.quarantine_rate",
            CheckKind.QUARANTINE_RATE,
            f"{STAGING_TAG}{table}",
            qr.severity or default,
            threshold,
            Comparison.AT_MOST,
            params=(("source", source), ("endpoint", endpoint), ("runs", qr.runs)),
        )
    ]


def plan_from_loaded(loaded: Any) -> QualityPlan:
    """Plan of a `LoadedConfig` (the shared config), staging tables validated against its endpoints."""
    if loaded.config is None:
        raise ValueError(f"the pipeline config {loaded.path} did not load: {loaded.problems}")
    thresholds = {e.table_name: e.quarantine_threshold for e in loaded.endpoints}
    return plan_checks(loaded.config.quality, thresholds, str(loaded.path), loaded.left_out_tables)


# --- evaluation ---------------------------------------------------------------------------------------------


class _Unevaluable(Exception):
    """The check cannot be evaluated; the message says why (it fails the check)."""


def _relation(cur: Any, schema: str, table: str) -> sql.Identifier:
    cur.execute("SELECT to_regclass(%s)", (sql.Identifier(schema, table).as_string(cur.connection),))
    if cur.fetchone()[0] is None:
        raise _Unevaluable(f"table {schema}.{table} does not exist")
    return sql.Identifier(schema, table)


def _columns(cur: Any, schema: str, table: str) -> set[str]:
    cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (schema, table),
    )
    return {row[0] for row in cur.fetchall()}


def _need_columns(cur: Any, schema: str, table: str, columns: Iterable[str]) -> None:
    missing = sorted(set(columns) - _columns(cur, schema, table))
    if missing:
        raise _Unevaluable(f"column(s) {', '.join(missing)} missing in {schema}.{table}")


def _schema_of(spec: CheckSpec, ctx: EvaluationContext) -> str:
    return ctx.raw_schema if spec.is_staging else ctx.build_schema


def _passes(value: float, spec: CheckSpec) -> bool:
    if spec.comparison == Comparison.AT_LEAST:
        return value >= spec.threshold
    return value <= spec.threshold


@dataclass(frozen=True)
class _Table:
    """The table a check reads: its schema and name, and the relation to put in the SQL."""

    schema: str
    name: str
    rel: sql.Identifier


def _evaluate(cur: Any, spec: CheckSpec, ctx: EvaluationContext) -> CheckResult:
    if spec.kind == CheckKind.QUARANTINE_RATE:
        return _quarantine_rate(cur, spec, ctx)
    evaluate = _EVALUATORS.get(spec.kind)
    if evaluate is None:
        raise _Unevaluable(f"unknown check kind {spec.kind}")
    schema, name = _schema_of(spec, ctx), spec.table_name
    return evaluate(cur, spec, ctx, _Table(schema, name, _relation(cur, schema, name)))


def _row_count(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table.rel))
    observed = float(cur.fetchone()[0])
    return CheckResult.of(spec, observed, _passes(observed, spec))


def _relative_change(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table.rel))
    rows = cur.fetchone()[0]
    try:
        baseline_rel = _relation(cur, ctx.production_schema, table.name)
    except _Unevaluable:
        return CheckResult.of(spec, None, True, f"no production baseline; {rows} rows")
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(baseline_rel))
    baseline = cur.fetchone()[0]
    if baseline == 0:
        return CheckResult.of(spec, None, True, f"production table is empty; {rows} rows")
    change = (rows - baseline) / baseline
    direction = spec.param("direction")
    observed = (
        abs(change) if direction == "both" else max(0.0, -change if direction == "decrease" else change)
    )
    return CheckResult.of(spec, round(observed, 6), _passes(observed, spec), f"{baseline} -> {rows} rows")


def _null_rate(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    assert spec.column
    _need_columns(cur, table.schema, table.name, [spec.column])
    cur.execute(
        sql.SQL("SELECT count(*), count(*) FILTER (WHERE {} IS NULL) FROM {}").format(
            sql.Identifier(spec.column), table.rel
        )
    )
    total, nulls = cur.fetchone()
    observed = nulls / total if total else 0.0
    return CheckResult.of(spec, round(observed, 6), _passes(observed, spec), f"{nulls} of {total} rows NULL")


def _unique(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    columns = list(spec.param("columns"))
    _need_columns(cur, table.schema, table.name, columns)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    not_null = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in columns)
    cur.execute(
        sql.SQL(
            "SELECT count(*) FROM (SELECT {cols} FROM {rel} WHERE {nn} GROUP BY {cols} "
            "HAVING count(*) > 1) AS duplicated"
        ).format(cols=cols, rel=table.rel, nn=not_null)
    )
    observed = float(cur.fetchone()[0])
    detail = f"{int(observed)} duplicated key value(s)" if observed else None
    return CheckResult.of(spec, observed, _passes(observed, spec), detail)


def _relationships(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    assert spec.column
    parent, field_name = spec.param("to"), spec.param("field")
    parent_rel = _relation(cur, table.schema, parent)  # the parent lives beside the child
    _need_columns(cur, table.schema, table.name, [spec.column])
    _need_columns(cur, table.schema, parent, [field_name])
    cur.execute(
        sql.SQL(
            "SELECT count(*) FROM {rel} AS c WHERE c.{col} IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM {prel} AS p WHERE p.{pcol} = c.{col})"
        ).format(
            rel=table.rel, col=sql.Identifier(spec.column), prel=parent_rel, pcol=sql.Identifier(field_name)
        )
    )
    observed = float(cur.fetchone()[0])
    detail = f"{int(observed)} row(s) without a match in {parent}" if observed else None
    return CheckResult.of(spec, observed, _passes(observed, spec), detail)


def _freshness(cur: Any, spec: CheckSpec, ctx: EvaluationContext, table: _Table) -> CheckResult:
    assert spec.column
    _need_columns(cur, table.schema, table.name, [spec.column])
    cur.execute(
        sql.SQL(
            "SELECT max({c})::timestamptz, extract(epoch FROM now() - max({c})::timestamptz) / 3600.0 "
            "FROM {rel}"
        ).format(c=sql.Identifier(spec.column), rel=table.rel)
    )
    newest, age_hours = cur.fetchone()
    if newest is None:
        return CheckResult.of(spec, None, False, "no rows with a value")
    observed = round(float(age_hours), 3)
    return CheckResult.of(spec, observed, _passes(observed, spec), f"newest {newest.isoformat()}")


_EVALUATORS: dict[CheckKind, Callable[[Any, CheckSpec, EvaluationContext, _Table], CheckResult]] = {
    CheckKind.ROW_COUNT: _row_count,
    CheckKind.RELATIVE_CHANGE: _relative_change,
    CheckKind.NULL_RATE: _null_rate,
    CheckKind.UNIQUE: _unique,
    CheckKind.RELATIONSHIPS: _relationships,
    CheckKind.FRESHNESS: _freshness,
}


def _quarantine_rate(cur: Any, spec: CheckSpec, ctx: EvaluationContext) -> CheckResult:
    runs = sql.Identifier(ctx.ops_schema, "ingest_runs")
    cur.execute("SELECT to_regclass(%s)", (runs.as_string(cur.connection),))
    if cur.fetchone()[0] is None:
        return CheckResult.of(
            spec, None, True, f"no ingestion run recorded ({ctx.ops_schema}.ingest_runs missing)"
        )
    cur.execute(
        sql.SQL(
            "SELECT count(*), coalesce(sum(quarantined), 0), coalesce(sum(records), 0) FROM ("
            " SELECT quarantined, records FROM {} WHERE source = %s AND endpoint = %s"
            " ORDER BY coalesce(finished_at, started_at) DESC NULLS LAST LIMIT %s) AS latest"
        ).format(runs),
        (spec.param("source"), spec.param("endpoint"), spec.param("runs")),
    )
    n_runs, quarantined, records = cur.fetchone()
    if n_runs == 0:
        # Nothing ingested, nothing quarantined: staleness is the freshness check's business.
        return CheckResult.of(spec, None, True, "no ingestion run recorded")
    observed = float(quarantined) / float(records) if records else 0.0
    return CheckResult.of(
        spec,
        round(observed, 6),
        _passes(observed, spec),
        f"{quarantined} of {records} record(s) quarantined in the latest {n_runs} run(s)",
    )


def evaluate_checks(conn: Any, specs: Sequence[CheckSpec], ctx: EvaluationContext) -> list[CheckResult]:
    """Evaluate `specs` in one read-only snapshot; a check that cannot be evaluated fails, it never raises."""
    results: list[CheckResult] = []
    previous_autocommit = conn.autocommit
    conn.autocommit = False
    try:
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for spec in specs:
                cur.execute("SAVEPOINT quality_check")
                try:
                    result = _evaluate(cur, spec, ctx)
                except _Unevaluable as err:
                    result = CheckResult.of(spec, None, False, str(err))
                except Exception as err:  # a SQL error (type mismatch, …) fails this check only
                    cur.execute("ROLLBACK TO SAVEPOINT quality_check")
                    result = CheckResult.of(spec, None, False, f"evaluation error: {str(err).strip()}")
                cur.execute("RELEASE SAVEPOINT quality_check")
                log.info("%s %s", "PASS" if result.passed else "FAIL", result.describe())
                results.append(result)
        conn.rollback()
    finally:
        conn.autocommit = previous_autocommit
    return results
