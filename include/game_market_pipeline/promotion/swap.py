"""Blue/green schemas of the warehouse: prepare a build, promote it atomically, roll it back.

Three schemas (names from `quality.promotion` and the transform DAG's target):
- `audit` (analytics_audit): the build being written and verified, never read by consumers;
- `production` (analytics): what readers query;
- `previous` (analytics_previous): the build production replaced, the rollback target.

Every build carries a one-row marker table `<schema>._wap_build` (build id, when, what it was built on), so
a reader can tell which build it is reading, and the swap can verify it promotes the build it was told to.

The swap is one transaction: take ACCESS EXCLUSIVE locks on every table and view of the schemas involved
(in one `LOCK TABLE` statement, sorted by schema and name), rename the schemas, copy the production grants
onto the new production schema, record `ops.promotions`, commit. A reader's statement that arrives during
the swap waits on the lock and, once it is granted, Postgres re-resolves the names (the rename invalidated
them), so it reads the new build; a statement already running holds its locks and the swap waits for it.
Either way one statement sees one build, never a mix, never a missing table.

The locks are taken under a short `lock_timeout` (and a statement timeout of the same length over the whole
`LOCK TABLE`): when a long reader holds a table the swap gives up everything it holds, backs off and retries,
rather than queueing every other reader behind it for long. Keep `lock_timeout` below the server's
`deadlock_timeout` (1 s by default): then a reader that waits on the swap can never be the one the
deadlock detector cancels.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg2
import psycopg2.errors
from psycopg2 import sql
from psycopg2.extras import Json

from game_market_pipeline.exceptions import PipelineError
from game_market_pipeline.warehouse.migrate import ensure_migrated
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS

log = logging.getLogger(__name__)

MARKER_TABLE = "_wap_build"
_ADVISORY_KEY = "gmp.warehouse.wap"
_LOCKABLE_KINDS = ("r", "p", "v", "m", "f")
_SCHEMA_PRIVILEGES = frozenset({"USAGE", "CREATE"})
_TABLE_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN"}
)


class PromotionError(PipelineError):
    """The swap cannot be done as asked (nothing to promote, wrong build, no rollback target)."""


class PromotionLockTimeout(PromotionError):
    """Readers held the tables through every attempt; worth retrying later (the others are not)."""


@dataclass(frozen=True)
class WapSchemas:
    audit: str = DEFAULT_SCHEMAS.audit
    production: str = DEFAULT_SCHEMAS.production
    previous: str = DEFAULT_SCHEMAS.previous

    def __post_init__(self) -> None:
        if len({self.audit, self.production, self.previous}) != 3:
            raise ValueError(f"audit, production and previous schemas must differ: {self}")


@dataclass(frozen=True)
class PrepareOutcome:
    build_id: str
    base: str  # fresh | recycled | reused
    base_build_id: str | None


@dataclass(frozen=True)
class SwapOutcome:
    action: str  # promote | rollback
    status: str  # promoted | already_promoted | rolled_back
    build_id: str  # what production serves now
    previous_build_id: str | None
    attempts: int


def ensure_promotion_tables(conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops) -> None:
    """`ops.promotions` exists: the warehouse migrations are applied (warehouse/migrate.py)."""
    ensure_migrated(conn, ops_schema)


def _schema_exists(cur: Any, schema: str) -> bool:
    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
    return cur.fetchone() is not None


def build_marker(cur: Any, schema: str) -> str | None:
    """The build id a schema holds (None: no such schema, or no marker)."""
    cur.execute("SELECT to_regclass(%s)", (sql.Identifier(schema, MARKER_TABLE).as_string(cur.connection),))
    if cur.fetchone()[0] is None:
        return None
    cur.execute(sql.SQL("SELECT build_id FROM {} LIMIT 1").format(sql.Identifier(schema, MARKER_TABLE)))
    row = cur.fetchone()
    return row[0] if row else None


def schema_builds(conn: Any, schemas: WapSchemas) -> dict[str, str | None]:
    """{'audit': build id or None, 'production': …, 'previous': …}."""
    with conn.cursor() as cur:
        state = {
            role: build_marker(cur, getattr(schemas, role)) for role in ("audit", "production", "previous")
        }
    conn.rollback()
    return state


def _write_marker(cur: Any, schema: str, build_id: str, base: str, base_build_id: str | None) -> None:
    marker = sql.Identifier(schema, MARKER_TABLE)
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (build_id text NOT NULL, prepared_at timestamptz NOT NULL, "
            "base text NOT NULL, base_build_id text)"
        ).format(marker)
    )
    cur.execute(sql.SQL("DELETE FROM {}").format(marker))
    cur.execute(
        sql.SQL("INSERT INTO {} VALUES (%s, clock_timestamp(), %s, %s)").format(marker),
        (build_id, base, base_build_id),
    )


def _rolled_back(cur: Any, ops_schema: str, build_id: str | None) -> bool:
    if build_id is None:
        return False
    cur.execute(
        sql.SQL("SELECT 1 FROM {}.promotions WHERE action = 'rollback' AND previous_build_id = %s").format(
            sql.Identifier(ops_schema)
        ),
        (build_id,),
    )
    return cur.fetchone() is not None


def prepare_audit(
    conn: Any,
    build_id: str,
    schemas: WapSchemas,
    *,
    ops_schema: str = DEFAULT_SCHEMAS.ops,
    full_refresh: bool = False,
) -> PrepareOutcome:
    """Make the audit schema ready for the build `build_id` (run before dbt).

    - the audit schema exists (a retry, or a build that never passed the gate): reuse it; whatever it holds
      is verified again by this build's checks before it can be promoted;
    - else the previous schema exists: rename it to audit (recycle); its incremental tables are one build
      behind production and catch up from the raw history — unless that build was rolled back, then it is
      dropped (its incremental state is not trusted) and the build starts fresh;
    - else (or `full_refresh`): a new, empty audit schema: a full build.
    From here until the promotion there is no rollback target (the previous build is being rebuilt).
    """
    ensure_promotion_tables(conn, ops_schema)
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_ADVISORY_KEY,))
        audit, previous = sql.Identifier(schemas.audit), sql.Identifier(schemas.previous)
        base_build_id = None
        if full_refresh:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(audit))
        if _schema_exists(cur, schemas.audit):
            base, base_build_id = "reused", build_marker(cur, schemas.audit)
        elif _schema_exists(cur, schemas.previous) and not full_refresh:
            base_build_id = build_marker(cur, schemas.previous)
            if _rolled_back(cur, ops_schema, base_build_id):
                log.warning(
                    "previous build %s was rolled back: dropping it, this build starts fresh", base_build_id
                )
                cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(previous))
                cur.execute(sql.SQL("CREATE SCHEMA {}").format(audit))
                base, base_build_id = "fresh", None
            else:
                cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(previous, audit))
                base = "recycled"
        else:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(audit))
            base = "fresh"
        _write_marker(cur, schemas.audit, build_id, base, base_build_id)
    conn.commit()
    log.info(
        "audit schema %s ready for build %s (%s%s)",
        schemas.audit,
        build_id,
        base,
        f" from build {base_build_id}" if base_build_id else "",
    )
    return PrepareOutcome(build_id, base, base_build_id)


def _lockable(cur: Any, schema_names: Sequence[str]) -> list[sql.Identifier]:
    cur.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%s) AND c.relkind = ANY(%s) ORDER BY n.nspname, c.relname",
        (list(schema_names), list(_LOCKABLE_KINDS)),
    )
    return [sql.Identifier(schema, name) for schema, name in cur.fetchall()]


def _lock_all(cur: Any, schema_names: Sequence[str], lock_timeout_ms: int) -> int:
    """ACCESS EXCLUSIVE on every relation of the schemas, in (schema, name) order, within lock_timeout."""
    relations = _lockable(cur, schema_names)
    if relations:
        cur.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.SQL(", ").join(relations)))
        cur.execute("SET LOCAL statement_timeout = 0")
    return len(relations)


def _grantee(name: str | None) -> sql.Composable:
    return sql.SQL("PUBLIC") if name is None else sql.Identifier(name)


def copy_grants(cur: Any, from_schema: str, to_schema: str, extra_readers: Sequence[str] = ()) -> None:
    """Give `to_schema` (and all its tables and views) the grants other roles hold on `from_schema`.

    Schema privileges are copied as they are; table privileges held on any table of `from_schema` are granted
    on all tables of `to_schema`. `extra_readers` get USAGE + SELECT.
    """
    cur.execute(
        "SELECT r.rolname, a.privilege_type FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = %s AND a.grantee <> n.nspowner",
        (from_schema,),
    )
    schema_grants = {(role, priv) for role, priv in cur.fetchall() if priv in _SCHEMA_PRIVILEGES}
    cur.execute(
        "SELECT DISTINCT r.rolname, a.privilege_type FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a "
        "LEFT JOIN pg_roles r ON r.oid = a.grantee "
        "WHERE n.nspname = %s AND c.relkind = ANY(%s) AND a.grantee <> c.relowner",
        (from_schema, list(_LOCKABLE_KINDS)),
    )
    table_grants = {(role, priv) for role, priv in cur.fetchall() if priv in _TABLE_PRIVILEGES}
    for role in extra_readers:
        schema_grants.add((role, "USAGE"))
        table_grants.add((role, "SELECT"))
    target = sql.Identifier(to_schema)
    for role, priv in sorted(schema_grants, key=str):
        cur.execute(sql.SQL("GRANT {} ON SCHEMA {} TO {}").format(sql.SQL(priv), target, _grantee(role)))
    for role, priv in sorted(table_grants, key=str):
        cur.execute(
            sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(sql.SQL(priv), target, _grantee(role))
        )


T = TypeVar("T")


def _with_lock_retry(conn: Any, what: str, max_attempts: int, attempt_fn: Callable[[Any, int], T]) -> T:
    """Run `attempt_fn(cursor, attempt)` in its own transaction until it gets its locks."""
    for attempt in range(1, max_attempts + 1):
        try:
            with conn.cursor() as cur:
                result = attempt_fn(cur, attempt)
            conn.commit()
            return result
        except (psycopg2.errors.LockNotAvailable, psycopg2.errors.QueryCanceled) as err:
            conn.rollback()
            if attempt == max_attempts:
                raise PromotionLockTimeout(
                    f"{what}: could not lock the warehouse schemas in {max_attempts} "
                    f"attempt(s): {str(err).strip()}"
                ) from err
            backoff = min(0.05 * 2 ** (attempt - 1), 2.0) * (0.5 + random.random())
            log.info(
                "%s: locks busy (attempt %d/%d), retrying in %.2fs", what, attempt, max_attempts, backoff
            )
            time.sleep(backoff)
        except BaseException:
            conn.rollback()
            raise
    raise AssertionError("unreachable")


def promote(
    conn: Any,
    build_id: str,
    schemas: WapSchemas,
    *,
    checks_summary: dict[str, Any] | None = None,
    ops_schema: str = DEFAULT_SCHEMAS.ops,
    lock_timeout_ms: int = 500,
    max_attempts: int = 20,
    grant_select_to: Sequence[str] = (),
    requested_by: str | None = None,
) -> SwapOutcome:
    """Swap the verified audit schema in: production → previous, audit → production, in one transaction.

    Idempotent: when production already serves `build_id` nothing changes (status `already_promoted`).
    """
    ensure_promotion_tables(conn, ops_schema)
    conn.autocommit = False

    def attempt_fn(cur: Any, attempt: int) -> SwapOutcome:
        cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_ADVISORY_KEY,))
        serving = build_marker(cur, schemas.production)
        audited = build_marker(cur, schemas.audit) if _schema_exists(cur, schemas.audit) else None
        # Production serves this build and no rebuild of it waits in audit (a whole DAG run cleared and
        # run again rebuilds under the same run id): a retried promotion, nothing to do.
        if serving == build_id and audited != build_id:
            log.info("build %s is already in production (%s): nothing to do", build_id, schemas.production)
            return SwapOutcome(
                "promote", "already_promoted", build_id, build_marker(cur, schemas.previous), attempt
            )
        if not _schema_exists(cur, schemas.audit):
            raise PromotionError(f"no audit schema {schemas.audit} to promote (production serves {serving})")
        if audited != build_id:
            raise PromotionError(
                f"audit schema {schemas.audit} holds build {audited}, not {build_id}: "
                "refusing to promote a build the gate did not verify"
            )
        _lock_all(cur, [schemas.audit, schemas.previous, schemas.production], lock_timeout_ms)
        cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schemas.previous)))
        if _schema_exists(cur, schemas.production):
            cur.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(schemas.production), sql.Identifier(schemas.previous)
                )
            )
            copy_grants(cur, schemas.previous, schemas.audit, grant_select_to)
        else:
            copy_grants(cur, schemas.audit, schemas.audit, grant_select_to)
        cur.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(schemas.audit), sql.Identifier(schemas.production)
            )
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.promotions (action, build_id, previous_build_id, checks_summary, "
                "lock_attempts, requested_by) VALUES ('promote', %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(ops_schema)),
            (build_id, serving, Json(checks_summary or {}), attempt, requested_by),
        )
        return SwapOutcome("promote", "promoted", build_id, serving, attempt)

    outcome = _with_lock_retry(conn, f"promote {build_id}", max_attempts, attempt_fn)
    log.info(
        "promotion of %s: %s (previous build %s, %d lock attempt(s))",
        build_id,
        outcome.status,
        outcome.previous_build_id,
        outcome.attempts,
    )
    return outcome


def rollback(
    conn: Any,
    schemas: WapSchemas,
    *,
    expected_build_id: str | None = None,
    ops_schema: str = DEFAULT_SCHEMAS.ops,
    lock_timeout_ms: int = 500,
    max_attempts: int = 20,
    grant_select_to: Sequence[str] = (),
    requested_by: str | None = None,
    reason: str | None = None,
) -> SwapOutcome:
    """Swap the previous build back into production (and the current one out to previous), atomically.

    `expected_build_id`: refuse unless the previous schema holds exactly this build (guards a double run).
    """
    ensure_promotion_tables(conn, ops_schema)
    conn.autocommit = False
    parking = f"{schemas.production[:40]}_rollback_swap"

    def attempt_fn(cur: Any, attempt: int) -> SwapOutcome:
        cur.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_ADVISORY_KEY,))
        if not _schema_exists(cur, schemas.previous):
            raise PromotionError(
                f"no previous build ({schemas.previous}) to roll back to: either fewer than two builds were "
                "promoted yet, "
                f"or a build in progress recycled it into {schemas.audit} (the rollback target is back after "
                "that build is promoted)"
            )
        if not _schema_exists(cur, schemas.production):
            raise PromotionError(f"no production schema {schemas.production}")
        restored, current = build_marker(cur, schemas.previous), build_marker(cur, schemas.production)
        if expected_build_id and restored != expected_build_id:
            raise PromotionError(
                f"{schemas.previous} holds build {restored}, not the expected {expected_build_id}"
            )
        _lock_all(cur, [schemas.previous, schemas.production], lock_timeout_ms)
        prod, prev, park = (sql.Identifier(s) for s in (schemas.production, schemas.previous, parking))
        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(prod, park))
        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(prev, prod))
        cur.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(park, prev))
        copy_grants(cur, schemas.previous, schemas.production, grant_select_to)
        cur.execute(
            sql.SQL(
                "INSERT INTO {}.promotions (action, build_id, previous_build_id, checks_summary, "
                "lock_attempts, requested_by) VALUES ('rollback', %s, %s, %s, %s, %s)"
            ).format(sql.Identifier(ops_schema)),
            (restored, current, Json({"reason": reason} if reason else {}), attempt, requested_by),
        )
        return SwapOutcome("rollback", "rolled_back", restored or "?", current, attempt)

    outcome = _with_lock_retry(conn, "rollback", max_attempts, attempt_fn)
    log.warning(
        "rolled back production to build %s (build %s is now %s)",
        outcome.build_id,
        outcome.previous_build_id,
        schemas.previous,
    )
    return outcome
