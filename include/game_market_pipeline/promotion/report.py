"""Read-only reports over the WAP history: the latest verdict (for `make run`) and schema checksums."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS


def _exists(cur: Any, relation: str) -> bool:
    cur.execute("SELECT to_regclass(%s)", (relation,))
    return cur.fetchone()[0] is not None


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def latest_verdict(conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops) -> str:
    """One paragraph: the gate's latest verdict (with failed checks) and the build production serves."""
    ops = sql.Identifier(ops_schema)
    lines: list[str] = []
    with conn.cursor() as cur:
        if not _exists(cur, f"{ops_schema}.quality_verdicts"):
            conn.rollback()
            return "quality gate: no verdict yet (no build has reached the gate)"
        cur.execute(
            sql.SQL(
                "SELECT build_id, verdict, checks_total, failed_errors, failed_warnings, failures, "
                "decided_at FROM {}.quality_verdicts ORDER BY id DESC LIMIT 1"
            ).format(ops)
        )
        row = cur.fetchone()
        if row is None:
            lines.append("quality gate: no verdict yet (no build has reached the gate)")
        else:
            build_id, verdict, total, errors, warnings, failures, decided_at = row
            lines.append(
                f"quality gate: {verdict.upper()} for build {build_id} at {decided_at:%Y-%m-%d %H:%M:%S%z} "
                f"({total} checks: {total - errors - warnings} passed, {errors} error(s) failed, "
                f"{warnings} warning(s))"
            )
            for failure in failures or []:
                lines.append(
                    f"  - [{failure['severity']}] {failure['check_id']}: observed "
                    f"{_fmt(failure.get('observed'))}, threshold {failure.get('comparison') or ''} "
                    f"{_fmt(failure.get('threshold'))}"
                    + (f" ({failure['detail']})" if failure.get("detail") else "")
                )
        if _exists(cur, f"{ops_schema}.promotions"):
            cur.execute(
                sql.SQL(
                    "SELECT action, build_id, previous_build_id, promoted_at FROM {}.promotions "
                    "ORDER BY id DESC LIMIT 1"
                ).format(ops)
            )
            last = cur.fetchone()
        else:
            last = None
    conn.rollback()
    if last is None:
        lines.append("production: nothing promoted yet")
    else:
        action, build_id, previous, at = last
        verb = "promoted" if action == "promote" else "rolled back to"
        lines.append(
            f"production: {verb} build {build_id} at {at:%Y-%m-%d %H:%M:%S%z}"
            + (f" (previous build {previous})" if previous else "")
        )
    return "\n".join(lines)


def table_checksums(conn: Any, schema: str) -> dict[str, str]:
    """{table: md5 of its rows as text, in order}: equal checksums = byte-for-byte equal contents."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
            (schema,),
        )
        tables = [r[0] for r in cur.fetchall()]
        sums = {}
        for table in tables:
            cur.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) "
                    "FROM {} AS t"
                ).format(sql.Identifier(schema, table))
            )
            count, digest = cur.fetchone()
            sums[table] = f"{count}:{digest}"
    conn.rollback()
    return sums
