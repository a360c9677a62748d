"""Each declared check kind, evaluated with SQL on real Postgres: passes, fails, and fails gracefully."""

from __future__ import annotations

import pytest
from psycopg2 import sql

from game_market_pipeline.config.quality import QualityConfig, Severity
from game_market_pipeline.quality.checks import EvaluationContext, evaluate_checks, plan_checks
from game_market_pipeline.quality.runner import run_quality_checks
from game_market_pipeline.quality.store import latest_results
from tests.quality.conftest import QUALITY_SECTION, write_build

pytestmark = pytest.mark.integration


def _ctx(wap):
    return EvaluationContext(wap.schemas.audit, wap.schemas.production, wap.raw, wap.ops)


def _by_id(results):
    return {r.check_id: r for r in results}


def test_clean_build_passes_every_check(conn, wap):
    write_build(conn, wap, "b1")
    plan = plan_checks(QualityConfig.model_validate(QUALITY_SECTION))
    results = _by_id(evaluate_checks(conn, plan.specs, _ctx(wap)))
    assert set(results) == set(s.check_id for s in plan.specs)
    assert all(r.passed for r in results.values()), [r.describe() for r in results.values() if not r.passed]
    assert results["fact_sales.row_count"].observed == 10
    assert results["fact_sales.relative_change"].observed is None  # no production baseline yet
    assert "no production baseline" in results["fact_sales.relative_change"].detail
    assert 0 < results["fact_sales.freshness"].observed < 2


def test_broken_build_fails_the_right_checks_with_observed_values(conn, wap):
    write_build(conn, wap, "b1", sales=10, null_amounts=2, orphan_stores=3, duplicate_sales=4)
    plan = plan_checks(QualityConfig.model_validate(QUALITY_SECTION))
    results = _by_id(evaluate_checks(conn, plan.specs, _ctx(wap)))
    nulls = results["fact_sales.null_rate.amount"]
    # 2 NULL amounts of their own + 2 among the 4 duplicated rows, out of 10 + 3 + 4 rows
    assert not nulls.passed and nulls.threshold == 0
    assert nulls.observed == pytest.approx(4 / 17, abs=1e-5)
    unique = results["fact_sales.unique.sale_id"]
    assert not unique.passed and unique.observed == 4
    orphans = results["fact_sales.relationships.store_key->dim_store.store_key"]
    assert not orphans.passed and orphans.observed == 3 and "without a match in dim_store" in orphans.detail
    assert results["fact_sales.row_count"].passed and results["dim_store.unique.store_key"].passed
    assert "observed 4, threshold <= 0" in unique.describe()


def test_row_count_and_relative_change_against_production(conn, wap):
    write_build(conn, wap, "b1", sales=10)
    with conn.cursor() as cur:  # make b1 "production"
        cur.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(wap.schemas.audit), sql.Identifier(wap.schemas.production)
            )
        )
    conn.commit()
    write_build(conn, wap, "b2", sales=4)
    config = QualityConfig.model_validate(
        {"models": {"fact_sales": {"row_count": {"min": 5}, "relative_change": {"max": 0.5}}}}
    )
    results = _by_id(evaluate_checks(conn, plan_checks(config).specs, _ctx(wap)))
    assert not results["fact_sales.row_count"].passed and results["fact_sales.row_count"].observed == 4
    change = results["fact_sales.relative_change"]
    assert not change.passed and change.observed == pytest.approx(0.6) and change.detail == "10 -> 4 rows"


def test_relative_change_can_watch_one_direction_only(conn, wap):
    write_build(conn, wap, "b1", sales=10)
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(wap.schemas.audit), sql.Identifier(wap.schemas.production)
            )
        )
    conn.commit()
    write_build(conn, wap, "b2", sales=30)  # tripled: fine for a history that only grows
    config = QualityConfig.model_validate(
        {"models": {"fact_sales": {"relative_change": {"max": 0.2, "direction": "decrease"}}}}
    )
    (grown,) = evaluate_checks(conn, plan_checks(config).specs, _ctx(wap))
    assert grown.passed and grown.observed == 0
    write_build(conn, wap, "b3", sales=7, prepare=False)  # lost 30 %
    (shrunk,) = evaluate_checks(conn, plan_checks(config).specs, _ctx(wap))
    assert not shrunk.passed and shrunk.observed == pytest.approx(0.3)


def test_stale_data_fails_freshness(conn, wap):
    write_build(conn, wap, "b1")
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("UPDATE {} SET sold_at = now() - interval '3 days'").format(
                sql.Identifier(wap.schemas.audit, "fact_sales")
            )
        )
    conn.commit()
    config = QualityConfig.model_validate(
        {"models": {"fact_sales": {"freshness": {"column": "sold_at", "max_age_hours": 24}}}}
    )
    (result,) = evaluate_checks(conn, plan_checks(config).specs, _ctx(wap))
    assert not result.passed and result.observed == pytest.approx(72, abs=0.1)


def test_missing_table_or_column_fails_that_check_only(conn, wap):
    write_build(conn, wap, "b1")
    config = QualityConfig.model_validate(
        {
            "models": {
                "fact_sales": {
                    "null_rate": [{"column": "no_such_column", "max": 0}],
                    "row_count": {"min": 1},
                },
                "dim_missing": {"row_count": {"min": 1}},
            }
        }
    )
    results = _by_id(evaluate_checks(conn, plan_checks(config).specs, _ctx(wap)))
    assert not results["fact_sales.null_rate.no_such_column"].passed
    assert "no_such_column missing" in results["fact_sales.null_rate.no_such_column"].detail
    assert (
        not results["dim_missing.row_count"].passed
        and "does not exist" in results["dim_missing.row_count"].detail
    )
    assert results["fact_sales.row_count"].passed


def test_quarantine_rate_reads_the_latest_ingestion_runs(conn, wap):
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "CREATE SCHEMA {ops}; CREATE TABLE {ops}.ingest_runs (run_id text, source text, "
                "endpoint text, status text, records int, loaded int, quarantined int, "
                "quarantine_rate double precision, started_at timestamptz, finished_at timestamptz)"
            ).format(ops=sql.Identifier(wap.ops))
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.ingest_runs VALUES "
                "('r1', 'rawg', 'games', 'success', 100, 100, 0, 0, now() - interval '2 days', "
                " now() - interval '2 days'), "
                "('r2', 'rawg', 'games', 'success', 100, 90, 10, 0.1, now(), now()), "
                "('r3', 'rawg', 'genres', 'success', 50, 50, 0, 0, now(), now())"
            ).format(sql.Identifier(wap.ops))
        )
    conn.commit()
    config = QualityConfig.model_validate(
        {
            "staging": {
                "rawg__games": {"quarantine_rate": {"max": 0.05}},
                "rawg__genres": {"quarantine_rate": {}},  # threshold: the endpoint's own quarantine_threshold
                "tcgdex__sets": {"quarantine_rate": {"severity": "warn"}},
            }
        }
    )
    plan = plan_checks(config, {"rawg__games": 0.05, "rawg__genres": 0.02, "tcgdex__sets": 0.05})
    results = _by_id(evaluate_checks(conn, plan.specs, _ctx(wap)))
    games = results["raw.rawg__games.quarantine_rate"]
    assert not games.passed and games.observed == pytest.approx(0.1) and games.threshold == 0.05
    genres = results["raw.rawg__genres.quarantine_rate"]
    assert genres.passed and genres.threshold == 0.02
    sets = results["raw.tcgdex__sets.quarantine_rate"]
    assert sets.passed and sets.severity == Severity.WARN and sets.detail == "no ingestion run recorded"
    # Over the latest two runs the rate is 10 / 200.
    two = plan_checks(
        QualityConfig.model_validate(
            {"staging": {"rawg__games": {"quarantine_rate": {"max": 0.05, "runs": 2}}}}
        )
    )
    (result,) = evaluate_checks(conn, two.specs, _ctx(wap))
    assert result.observed == pytest.approx(0.05) and result.passed


def test_runner_stores_every_result_with_build_id_in_ops_quality_results(conn, wap):
    write_build(conn, wap, "b1", null_amounts=1)
    plan = plan_checks(QualityConfig.model_validate(QUALITY_SECTION))
    results = run_quality_checks(conn, "b1", plan, _ctx(wap), dbt_task_states={"dbt.run": "success"})
    stored = _by_id(latest_results(conn, "b1", wap.ops))
    assert set(stored) == {r.check_id for r in results} == set(plan.expected_check_ids)
    nulls = stored["fact_sales.null_rate.amount"]
    assert (nulls.passed, nulls.observed, nulls.threshold, nulls.severity) == (
        False,
        0.1,
        0.0,
        Severity.ERROR,
    )
    assert stored["dbt.build"].passed
    with conn.cursor() as cur:  # the history users chart: one row per evaluation, with its time
        cur.execute(
            sql.SQL(
                "SELECT count(*), count(DISTINCT evaluated_at) > 0, bool_and(build_id = 'b1') "
                "FROM {}.quality_results"
            ).format(sql.Identifier(wap.ops))
        )
        assert cur.fetchone() == (len(results), True, True)
