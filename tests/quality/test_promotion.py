"""The atomic swap on real Postgres: promotion, idempotence, concurrent readers, grants, locks, rollback."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg2
import pytest
from psycopg2 import sql

from game_market_pipeline.promotion.report import table_checksums
from game_market_pipeline.promotion.swap import (
    PromotionError,
    PromotionLockTimeout,
    WapSchemas,
    prepare_audit,
    promote,
    rollback,
    schema_builds,
)
from tests.quality.conftest import write_build

pytestmark = pytest.mark.integration


def _promotions(conn, wap):
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL(
                "SELECT action, build_id, previous_build_id, lock_attempts FROM {}.promotions ORDER BY id"
            ).format(sql.Identifier(wap.ops))
        )
        rows = cur.fetchall()
    conn.rollback()
    return rows


def test_first_build_is_fresh_then_promoted_and_the_next_build_recycles_the_previous(conn, wap):
    assert prepare_audit(conn, "b1", wap.schemas, ops_schema=wap.ops).base == "fresh"
    write_build(conn, wap, "b1", prepare=False)
    outcome = promote(conn, "b1", wap.schemas, ops_schema=wap.ops, checks_summary={"verdict": "passed"})
    assert (outcome.status, outcome.previous_build_id) == ("promoted", None)
    assert schema_builds(conn, wap.schemas) == {"audit": None, "production": "b1", "previous": None}

    write_build(conn, wap, "b2")  # prepare: nothing to recycle yet (no previous) -> fresh again
    promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    assert schema_builds(conn, wap.schemas) == {"audit": None, "production": "b2", "previous": "b1"}

    # Build 3 starts from build 1's tables (one build behind production): incremental models catch up.
    prepared = prepare_audit(conn, "b3", wap.schemas, ops_schema=wap.ops)
    assert (prepared.base, prepared.base_build_id) == ("recycled", "b1")
    assert schema_builds(conn, wap.schemas) == {"audit": "b3", "production": "b2", "previous": None}
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT DISTINCT build_id FROM {}").format(
                sql.Identifier(wap.schemas.audit, "fact_sales")
            )
        )
        assert cur.fetchall() == [("b1",)]
    conn.rollback()
    assert [r[:3] for r in _promotions(conn, wap)] == [("promote", "b1", None), ("promote", "b2", "b1")]


def test_promoting_an_already_promoted_build_changes_nothing(conn, wap):
    write_build(conn, wap, "b1")
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2")
    promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    before = (
        table_checksums(conn, wap.schemas.production),
        table_checksums(conn, wap.schemas.previous),
        _promotions(conn, wap),
    )
    again = promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    assert (again.status, again.build_id, again.previous_build_id) == ("already_promoted", "b2", "b1")
    after = (
        table_checksums(conn, wap.schemas.production),
        table_checksums(conn, wap.schemas.previous),
        _promotions(conn, wap),
    )
    assert after == before


def test_a_dag_run_cleared_and_run_again_after_its_promotion_promotes_its_rebuild(conn, wap):
    """Same run id, rebuilt (raw data grew meanwhile): promoted again, not mistaken for a retry."""
    write_build(conn, wap, "b1", sales=10)
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2", sales=10)
    promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2", sales=12)  # the whole run again: prepare recycles b1's schema
    outcome = promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    assert (outcome.status, outcome.previous_build_id) == ("promoted", "b2")
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(wap.schemas.production, "fact_sales"))
        )
        assert cur.fetchone()[0] == 12
    conn.rollback()
    assert promote(conn, "b2", wap.schemas, ops_schema=wap.ops).status == "already_promoted"


def test_refuses_to_promote_a_build_the_audit_schema_does_not_hold(conn, wap):
    write_build(conn, wap, "b1")
    with pytest.raises(PromotionError, match="holds build b1, not b9"):
        promote(conn, "b9", wap.schemas, ops_schema=wap.ops)
    assert schema_builds(conn, wap.schemas)["production"] is None
    elsewhere = WapSchemas(wap.prefix + "nope", wap.schemas.production, wap.schemas.previous)
    with pytest.raises(PromotionError, match="no audit schema"):
        promote(conn, "b9", elsewhere, ops_schema=wap.ops)


def test_concurrent_readers_see_one_build_or_the_other_never_a_mix_or_an_error(pg_url, conn, wap):
    """Readers hammer production (a marker table and a data table in ONE statement) through 6 swaps."""
    prod = wap.schemas.production
    # The slow variant holds its locks for 20 ms (the swap must wait for it, then retry or proceed).
    query, slow_query = (
        sql.SQL(
            "SELECT m.build_id, (SELECT array_agg(DISTINCT f.build_id) FROM {fact} f), "
            "(SELECT count(*) FROM {fact}), (SELECT count(*) FROM {dim}) " + extra + "FROM {marker} m"
        ).format(
            fact=sql.Identifier(prod, "fact_sales"),
            dim=sql.Identifier(prod, "dim_store"),
            marker=sql.Identifier(prod, "_wap_build"),
        )
        for extra in ("", ", pg_sleep(0.02) ")
    )
    sizes = {f"b{i}": 10 + 7 * i for i in range(1, 8)}  # every build has its own row count
    write_build(conn, wap, "b1", sales=sizes["b1"])
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)

    stop, errors, seen, counts = threading.Event(), [], set(), [0]

    def reader(statement) -> None:
        reader_conn = psycopg2.connect(pg_url)
        reader_conn.autocommit = True
        try:
            with reader_conn.cursor() as cur:
                while not stop.is_set():
                    try:
                        cur.execute(statement)
                        marker, fact_builds, fact_rows, dim_rows = cur.fetchone()[:4]
                    except Exception as err:  # noqa: BLE001 - any error is a failure of the swap
                        errors.append(repr(err))
                        continue
                    counts[0] += 1
                    seen.add(marker)
                    if fact_builds != [marker] or fact_rows != sizes[marker] or dim_rows != 3:
                        errors.append(
                            f"mixed state: marker {marker}, fact {fact_builds} {fact_rows}, dim {dim_rows}"
                        )
        finally:
            reader_conn.close()

    threads = [threading.Thread(target=reader, args=(q,)) for q in (query, query, slow_query)]
    for t in threads:
        t.start()
    attempts = []
    try:
        for i in range(2, 8):
            build = f"b{i}"
            write_build(conn, wap, build, sales=sizes[build])
            time.sleep(0.05)
            outcome = promote(
                conn, build, wap.schemas, ops_schema=wap.ops, lock_timeout_ms=200, max_attempts=50
            )
            attempts.append(outcome.attempts)
            assert outcome.status == "promoted"
    finally:
        time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
    print(f"\n{counts[0]} reader queries over 6 swaps; lock attempts per swap: {attempts}")
    assert errors == []
    assert counts[0] > 100 and len(seen) >= 3


def test_grants_of_production_carry_over_to_the_promoted_build(pg_url, conn, wap):
    role = f"gmp_reader_{uuid.uuid4().hex[:8]}"
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    conn.commit()
    try:
        write_build(conn, wap, "b1")
        promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
        with conn.cursor() as cur:  # the DBA grants the reader role on production once
            cur.execute(
                sql.SQL(
                    "GRANT USAGE ON SCHEMA {s} TO {r}; GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {r}"
                ).format(s=sql.Identifier(wap.schemas.production), r=sql.Identifier(role))
            )
        conn.commit()
        write_build(conn, wap, "b2")  # a fresh schema: no grants of its own
        promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
        with conn.cursor() as cur:
            cur.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
            cur.execute(
                sql.SQL("SELECT build_id FROM {}").format(
                    sql.Identifier(wap.schemas.production, "_wap_build")
                )
            )
            assert cur.fetchone() == ("b2",)
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}").format(
                    sql.Identifier(wap.schemas.production, "fact_sales")
                )
            )
            assert cur.fetchone()[0] == 10
            cur.execute("RESET ROLE")
            cur.execute(
                "SELECT has_table_privilege(%s, %s, 'INSERT')",
                (role, f'"{wap.schemas.production}".fact_sales'),
            )
            assert cur.fetchone() == (False,)  # only what it had: SELECT
        conn.rollback()
    finally:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP OWNED BY {r}; DROP ROLE {r}").format(r=sql.Identifier(role)))
        conn.commit()


def test_a_long_reader_makes_the_swap_back_off_and_retry_instead_of_blocking_readers(pg_url, conn, wap):
    write_build(conn, wap, "b1")
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2")
    holder = psycopg2.connect(pg_url)
    with holder.cursor() as cur:  # an open transaction that read production: holds ACCESS SHARE
        cur.execute(
            sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(wap.schemas.production, "fact_sales"))
        )
    with pytest.raises(PromotionLockTimeout, match="could not lock"):
        promote(conn, "b2", wap.schemas, ops_schema=wap.ops, lock_timeout_ms=50, max_attempts=2)
    assert schema_builds(conn, wap.schemas)["production"] == "b1"  # nothing half-done

    threading.Timer(0.6, holder.rollback).start()  # the reader finishes while the swap retries
    started = time.monotonic()
    outcome = promote(conn, "b2", wap.schemas, ops_schema=wap.ops, lock_timeout_ms=100, max_attempts=50)
    holder.close()
    assert outcome.status == "promoted" and outcome.attempts > 1 and time.monotonic() - started < 5
    assert _promotions(conn, wap)[-1] == ("promote", "b2", "b1", outcome.attempts)


def test_rollback_restores_the_previous_build_exactly_and_is_recorded(conn, wap):
    write_build(conn, wap, "b1", sales=12)
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    b1_sums = table_checksums(conn, wap.schemas.production)
    write_build(conn, wap, "b2", sales=20)
    promote(conn, "b2", wap.schemas, ops_schema=wap.ops)
    b2_sums = table_checksums(conn, wap.schemas.production)
    assert b1_sums != b2_sums and table_checksums(conn, wap.schemas.previous) == b1_sums

    with pytest.raises(PromotionError, match="not the expected b7"):
        rollback(conn, wap.schemas, expected_build_id="b7", ops_schema=wap.ops)
    outcome = rollback(conn, wap.schemas, expected_build_id="b1", ops_schema=wap.ops, reason="bad prices")
    assert (outcome.status, outcome.build_id, outcome.previous_build_id) == ("rolled_back", "b1", "b2")
    assert table_checksums(conn, wap.schemas.production) == b1_sums
    assert table_checksums(conn, wap.schemas.previous) == b2_sums
    assert _promotions(conn, wap)[-1][:3] == ("rollback", "b1", "b2")

    # The rolled-back build is not recycled: the next build starts fresh.
    prepared = prepare_audit(conn, "b3", wap.schemas, ops_schema=wap.ops)
    assert (prepared.base, prepared.base_build_id) == ("fresh", None)
    assert schema_builds(conn, wap.schemas) == {"audit": "b3", "production": "b1", "previous": None}
    with pytest.raises(PromotionError, match="no previous build"):
        rollback(conn, wap.schemas, ops_schema=wap.ops)


def test_a_build_that_never_passed_is_reused_not_promoted_and_production_is_untouched(conn, wap):
    write_build(conn, wap, "b1")
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    production = table_checksums(conn, wap.schemas.production)
    write_build(conn, wap, "b2", null_amounts=3)  # its gate fails: never promoted
    prepared = prepare_audit(conn, "b3", wap.schemas, ops_schema=wap.ops)
    assert (prepared.base, prepared.base_build_id) == ("reused", "b2")
    assert schema_builds(conn, wap.schemas)["audit"] == "b3"
    assert table_checksums(conn, wap.schemas.production) == production
    full = prepare_audit(conn, "b4", wap.schemas, ops_schema=wap.ops, full_refresh=True)
    assert full.base == "fresh" and list(table_checksums(conn, wap.schemas.audit)) == ["_wap_build"]


def test_a_reader_transaction_spanning_the_swap_keeps_reading_its_build_without_error(pg_url, conn, wap):
    """A report reading several statements in one transaction holds the old build; the swap waits for it."""
    write_build(conn, wap, "b1")
    promote(conn, "b1", wap.schemas, ops_schema=wap.ops)
    write_build(conn, wap, "b2")
    prod = wap.schemas.production
    report = psycopg2.connect(pg_url)
    report.set_session(isolation_level="REPEATABLE READ")
    result: dict = {}
    with report.cursor() as cur:
        cur.execute(sql.SQL("SELECT build_id FROM {}").format(sql.Identifier(prod, "_wap_build")))
        first = cur.fetchone()[0]

        def swap_in() -> None:
            swap_conn = psycopg2.connect(pg_url)
            try:
                result["outcome"] = promote(
                    swap_conn, "b2", wap.schemas, ops_schema=wap.ops, lock_timeout_ms=100, max_attempts=100
                )
            finally:
                swap_conn.close()

        swap = threading.Thread(target=swap_in)
        swap.start()
        time.sleep(0.3)  # the swap is now queued on (or backing off from) the report's locks
        cur.execute(sql.SQL("SELECT DISTINCT build_id FROM {}").format(sql.Identifier(prod, "fact_sales")))
        second = cur.fetchall()
    report.commit()
    report.close()
    swap.join(timeout=10)
    assert (first, second) == ("b1", [("b1",)])
    assert result["outcome"].status == "promoted" and result["outcome"].attempts > 1
    assert schema_builds(conn, wap.schemas)["production"] == "b2"
