"""Evaluate every check of one build and store the results in `ops.quality_results`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from game_market_pipeline.quality.checks import CheckResult, EvaluationContext, QualityPlan, evaluate_checks
from game_market_pipeline.quality.dbt_results import checks_from_run_results, dbt_build_check, read_target_dir
from game_market_pipeline.quality.store import ensure_quality_tables, record_results, stored_dbt_run_results

log = logging.getLogger(__name__)


def run_quality_checks(
    conn: Any,
    build_id: str,
    plan: QualityPlan,
    ctx: EvaluationContext,
    *,
    dbt_task_states: Mapping[str, str] | None = None,
    dbt_target_path: str | Path | None = None,
    extra_run_results: Iterable[Mapping[str, Any]] = (),
) -> list[CheckResult]:
    """Declared checks + dbt's results + the dbt build's task states → `ops.quality_results`; returns them."""
    ensure_quality_tables(conn, ctx.ops_schema)
    results = evaluate_checks(conn, plan.specs, ctx)
    if plan.dbt_build_check:
        documents: list[Mapping[str, Any]] = list(stored_dbt_run_results(conn, build_id, ctx.ops_schema))
        if dbt_target_path and Path(dbt_target_path).is_dir():
            documents += read_target_dir(dbt_target_path)
        documents += list(extra_run_results)
        results += checks_from_run_results(documents)
        results.append(dbt_build_check(dbt_task_states, plan.dbt_build_severity))
    record_results(conn, build_id, results, ctx.ops_schema)
    failed = [r for r in results if not r.passed]
    log.info("build %s: %d check(s) evaluated, %d failed", build_id, len(results), len(failed))
    return results
