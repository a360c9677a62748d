"""Ordered SQL migrations of the warehouse's fixed tables: applied once, by one owner, never by a load.

Two tracks, each a folder of `NNNN_<what>.sql` files applied in version order:
- `ops` (`migrations/ops/`, `{ops}` = the ops schema): run records, call counts, leases, quality
  history, promotions;
- `raw` (`migrations/raw/`, `{raw}` = the raw schema): the quarantine beside the staging tables.

Every applied file is recorded in `{ops}.schema_migrations` (track, target schema, version, name,
checksum). The runner applies everything pending in one transaction under an advisory lock, so two
processes that start at once apply each file once; the second finds nothing left to do.

Who applies them: `gmp-warehouse migrate` (a deploy step), the local stack, and — lazily, if that
step was skipped — the load, promotion and quality code through `ensure_migrated`, which costs two
small reads once everything is applied and always runs before (never inside) their data
transactions: DDL in a load transaction held locks to commit and made overlapping loads deadlock.

`{ops}` / `{raw}` in a file are replaced by the quoted schema name; nothing else is templated.
Files are append-only: change the schema with a new file, never by editing an applied one
(`status` reports an applied file whose checksum changed).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from psycopg2 import sql

from game_market_pipeline.config.models import is_identifier
from game_market_pipeline.exceptions import PipelineError
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS

log = logging.getLogger(__name__)

TRACKS = ("ops", "raw")
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# One lock for every migration of the database: applying is rare and quick.
_LOCK_KEY = "gmp.warehouse.migrate"


class MigrationError(PipelineError):
    """A migration file is malformed or failed to apply (nothing of that run was committed)."""


@dataclass(frozen=True)
class Migration:
    track: str
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.track}/{self.version:04d}_{self.name}"


def migrations(track: str) -> list[Migration]:
    """The track's migration files, in version order."""
    if track not in TRACKS:
        raise ValueError(f"unknown migration track {track!r}; expected one of {TRACKS}")
    folder = resources.files("game_market_pipeline.warehouse") / "migrations" / track
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if not match:
            raise MigrationError(f"migrations/{track}/{entry.name}: expected a name like 0001_what.sql")
        found.append(Migration(track, int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"migrations/{track}: two files share a version number: {versions}")
    return found


def _targets(ops_schema: str, raw_schema: str | None) -> dict[str, str]:
    targets = {"ops": ops_schema} if raw_schema is None else {"ops": ops_schema, "raw": raw_schema}
    for schema in targets.values():
        if not is_identifier(schema):
            raise ValueError(f"refusing unsafe schema name {schema!r}")
    return targets


def _applied(cur: Any, ops_schema: str) -> dict[tuple[str, str, int], str] | None:
    """(track, schema, version) -> checksum of what is applied; None when nothing ever was."""
    cur.execute("SELECT to_regclass(%s)", (sql.Identifier(ops_schema, "schema_migrations").as_string(cur),))
    if cur.fetchone()[0] is None:
        return None
    cur.execute(
        sql.SQL("SELECT track, schema_name, version, checksum FROM {}.schema_migrations").format(
            sql.Identifier(ops_schema)
        )
    )
    return {(track, schema, version): checksum for track, schema, version, checksum in cur.fetchall()}


def _pending(applied: dict | None, targets: dict[str, str]) -> list[Migration]:
    applied = applied or {}
    return [
        m
        for track, schema in targets.items()
        for m in migrations(track)
        if (track, schema, m.version) not in applied
    ]


def pending_migrations(
    conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops, raw_schema: str | None = DEFAULT_SCHEMAS.raw
) -> list[Migration]:
    """What `apply_migrations` would apply (reads only; ends the connection's transaction)."""
    targets = _targets(ops_schema, raw_schema)
    with conn.cursor() as cur:
        applied = _applied(cur, ops_schema)
    conn.commit()
    return _pending(applied, targets)


def apply_migrations(
    conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops, raw_schema: str | None = DEFAULT_SCHEMAS.raw
) -> list[Migration]:
    """Apply every pending migration of the `ops` track (and of `raw`, unless `raw_schema` is None)
    in one transaction; return what was applied. Commits the connection's open transaction first."""
    targets = _targets(ops_schema, raw_schema)
    conn.commit()
    ops = sql.Identifier(ops_schema)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK_KEY,))
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ops))
            cur.execute(
                sql.SQL("""
                CREATE TABLE IF NOT EXISTS {}.schema_migrations (
                    track       text        NOT NULL,
                    schema_name text        NOT NULL,
                    version     integer     NOT NULL,
                    name        text        NOT NULL,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (track, schema_name, version)
                )""").format(ops)
            )
            # Read under the lock: another process may have applied them while we waited.
            pending = _pending(_applied(cur, ops_schema), targets)
            for migration in pending:
                schema = targets[migration.track]
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
                text = migration.text.replace(
                    "{" + migration.track + "}", sql.Identifier(schema).as_string(cur)
                )
                try:
                    cur.execute(text)
                except Exception as exc:
                    raise MigrationError(
                        f"migration {migration.label} failed on schema {schema!r}: {exc}"
                    ) from exc
                cur.execute(
                    sql.SQL(
                        "INSERT INTO {}.schema_migrations (track, schema_name, version, name, checksum) "
                        "VALUES (%s, %s, %s, %s, %s)"
                    ).format(ops),
                    (migration.track, schema, migration.version, migration.name, migration.checksum),
                )
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    for migration in pending:
        log.info("applied warehouse migration %s to schema %s", migration.label, targets[migration.track])
    return pending


def ensure_migrated(conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops, raw_schema: str | None = None) -> None:
    """Apply what is pending, if anything: two small reads when the warehouse is current.

    Call it before a data transaction, never inside one (it commits the connection's transaction).
    """
    if pending_migrations(conn, ops_schema, raw_schema):
        apply_migrations(conn, ops_schema, raw_schema)


def status(
    conn: Any, ops_schema: str = DEFAULT_SCHEMAS.ops, raw_schema: str | None = DEFAULT_SCHEMAS.raw
) -> list[str]:
    """One line per known migration: applied, pending, or applied but edited since."""
    targets = _targets(ops_schema, raw_schema)
    with conn.cursor() as cur:
        applied = _applied(cur, ops_schema) or {}
    conn.commit()
    lines = []
    for track, schema in targets.items():
        for m in migrations(track):
            checksum = applied.get((track, schema, m.version))
            state = (
                "pending"
                if checksum is None
                else ("applied" if checksum == m.checksum else "applied, but the file changed since")
            )
            lines.append(f"{m.label:40} {schema:12} {state}")
    return lines
