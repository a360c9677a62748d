"""dbt's run_results.json and task states as checks (pure), and their round trip through Postgres."""

from __future__ import annotations

import json

import pytest

from game_market_pipeline.config.quality import Severity
from game_market_pipeline.quality.checks import EvaluationContext, QualityPlan
from game_market_pipeline.quality.dbt_results import (
    checks_from_run_results,
    dbt_build_check,
    read_target_dir,
    slim_run_results,
)
from game_market_pipeline.quality.runner import run_quality_checks
from game_market_pipeline.quality.store import ensure_quality_tables, latest_results, record_dbt_run_results

RUN_RESULTS = {
    "metadata": {"invocation_id": "inv-1", "generated_at": "2026-01-02T03:04:05Z"},
    "args": {"which": "build"},
    "results": [
        {
            "unique_id": "model.game_market.fact_games",
            "status": "success",
            "failures": None,
            "message": "SELECT 12",
        },
        {"unique_id": "test.game_market.not_null_fact_games_game_id.1a2b", "status": "pass", "failures": 0},
        {
            "unique_id": "test.game_market.unique_fact_games_game_id.3c4d",
            "status": "fail",
            "failures": 3,
            "message": "Got 3 results, configured to fail if != 0",
        },
        {
            "unique_id": "test.game_market.accepted_values_dim_store_kind.5e6f",
            "status": "warn",
            "failures": 1,
        },
        {"unique_id": "model.game_market.dim_tag", "status": "error", "message": "relation does not exist"},
        {"unique_id": "test.game_market.not_null_dim_tag_tag_id.7a8b", "status": "skipped"},
    ],
}
MANIFEST = {
    "nodes": {
        "test.game_market.unique_fact_games_game_id.3c4d": {"attached_node": "model.game_market.fact_games"},
        "test.game_market.accepted_values_dim_store_kind.5e6f": {
            "depends_on": {"nodes": ["model.game_market.dim_store"]}
        },
    }
}


def _by_id(results):
    return {r.check_id: r for r in results}


def test_each_dbt_test_becomes_a_check_with_dbt_severity():
    results = _by_id(checks_from_run_results([slim_run_results(RUN_RESULTS, MANIFEST)]))
    assert results["dbt.test.game_market.not_null_fact_games_game_id.1a2b"].passed
    unique = results["dbt.test.game_market.unique_fact_games_game_id.3c4d"]
    assert (unique.passed, unique.severity, unique.observed, unique.table) == (
        False,
        Severity.ERROR,
        3,
        "fact_games",
    )
    assert "configured to fail" in unique.detail
    warn = results["dbt.test.game_market.accepted_values_dim_store_kind.5e6f"]
    assert (warn.passed, warn.severity, warn.table) == (False, Severity.WARN, "dim_store")
    model = results["dbt.model.game_market.dim_tag"]
    assert (model.passed, model.severity, model.table) == (False, Severity.ERROR, "dim_tag")
    skipped = results["dbt.test.game_market.not_null_dim_tag_tag_id.7a8b"]
    assert not skipped.passed and skipped.severity == Severity.ERROR
    assert "dbt.model.game_market.fact_games" not in results  # a built model is not a check


def test_a_later_invocation_wins_for_retried_nodes():
    retry = {
        "results": [
            {"unique_id": "model.game_market.dim_tag", "status": "success"},
            {"unique_id": "test.game_market.not_null_dim_tag_tag_id.7a8b", "status": "pass"},
        ]
    }
    results = _by_id(checks_from_run_results([slim_run_results(RUN_RESULTS), slim_run_results(retry)]))
    assert "dbt.model.game_market.dim_tag" not in results
    assert results["dbt.test.game_market.not_null_dim_tag_tag_id.7a8b"].passed


def test_dbt_build_check_from_task_states():
    ok = dbt_build_check(
        {"dbt.fact_games.run": "success", "dbt.fact_games.test": "success", "dbt.x": "skipped"}
    )
    assert ok.passed and ok.observed == 0
    bad = dbt_build_check({"dbt.fact_games.run": "failed", "dbt.fact_games.test": "upstream_failed"})
    assert not bad.passed and bad.observed == 2 and "dbt.fact_games.run (failed)" in bad.detail
    missing = dbt_build_check({})
    assert not missing.passed and "no dbt task state" in missing.detail


def test_dbt_build_check_judges_the_watcher_node_tasks_not_the_producer():
    """WATCHER mode: fact_games failed in the one build, its task's retry rebuilt it: the build is complete."""
    recovered = {
        "dbt.dbt_producer_watcher": "failed",
        "dbt.dbt_producer_watcher_done": "upstream_failed",
        "dbt.fact_games_run": "success",
        "dbt.dim_date_run": "success",
    }
    ok = dbt_build_check(recovered)
    assert ok.passed and ok.detail == "2 dbt task(s), all successful"
    bad = dbt_build_check({**recovered, "dbt.fact_games_run": "failed"})
    assert not bad.passed and bad.observed == 1 and "dbt.fact_games_run (failed)" in bad.detail
    # the producer alone (no node task rendered): its state is the verdict
    assert not dbt_build_check({"dbt.dbt_producer_watcher": "failed"}).passed


def test_per_build_target_path_is_read(tmp_path):
    target = tmp_path / "build-1" / "fact_games_test" / "target"
    target.mkdir(parents=True)
    (target / "run_results.json").write_text(json.dumps(RUN_RESULTS))
    (target / "manifest.json").write_text(json.dumps(MANIFEST))
    (document,) = read_target_dir(tmp_path / "build-1")
    assert document["metadata"]["invocation_id"] == "inv-1"
    assert {r["unique_id"]: r.get("attached_model") for r in document["results"]}[
        "test.game_market.unique_fact_games_game_id.3c4d"
    ] == "fact_games"


@pytest.mark.integration
def test_results_stored_by_the_cosmos_callback_reach_ops_quality_results(conn, wap, tmp_path):
    ensure_quality_tables(conn, wap.ops)
    record_dbt_run_results(
        conn, "b1", slim_run_results(RUN_RESULTS, MANIFEST), "dbt.fact_games_test", wap.ops
    )
    record_dbt_run_results(
        conn, "other-build", {"results": [{"unique_id": "test.x.y", "status": "fail"}]}, None, wap.ops
    )
    plan = QualityPlan(specs=())
    ctx = EvaluationContext(wap.schemas.audit, wap.schemas.production, wap.raw, wap.ops)
    run_quality_checks(conn, "b1", plan, ctx, dbt_task_states={"dbt.fact_games_run": "success"})
    stored = _by_id(latest_results(conn, "b1", wap.ops))
    assert set(stored) == {
        "dbt.build",
        "dbt.model.game_market.dim_tag",
        "dbt.test.game_market.not_null_fact_games_game_id.1a2b",
        "dbt.test.game_market.unique_fact_games_game_id.3c4d",
        "dbt.test.game_market.accepted_values_dim_store_kind.5e6f",
        "dbt.test.game_market.not_null_dim_tag_tag_id.7a8b",
    }
    assert stored["dbt.test.game_market.unique_fact_games_game_id.3c4d"].observed == 3
