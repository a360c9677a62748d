"""S3 bronze -> Postgres staging (`raw.<source>__<endpoint>`), plus quarantine and run records.

One transaction per landing: rows are streamed from the Parquet parts into a temporary table with
COPY, then appended to the history table where (record key, content hash) is new, so unchanged
records cost nothing. The copied count must equal the manifest's, or nothing is committed.
Names come from the config, are validated identifiers, and are always quoted with psycopg2.sql.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2 import sql

from game_market_pipeline.config.models import ResolvedEndpoint, is_identifier
from game_market_pipeline.exceptions import LoadMismatchError, QuarantineThresholdExceeded
from game_market_pipeline.ingest.bronze import BronzeStore

log = logging.getLogger(__name__)


def _ident(name: str) -> sql.Identifier:
    if not is_identifier(name):
        raise ValueError(f"refusing unsafe SQL identifier {name!r}")
    return sql.Identifier(name)


def ensure_ops_tables(cur: Any, raw_schema: str, ops_schema: str) -> None:
    raw, ops = _ident(raw_schema), _ident(ops_schema)
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(raw))
    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ops))
    cur.execute(
        sql.SQL("""
        CREATE TABLE IF NOT EXISTS {}.quarantine (
            id bigserial PRIMARY KEY,
            source text NOT NULL,
            endpoint text NOT NULL,
            run_id text NOT NULL,
            ingest_date date NOT NULL,
            content_hash text NOT NULL,
            record_key text,
            raw_record jsonb NOT NULL,
            errors jsonb NOT NULL,
            s3_uri text NOT NULL,
            quarantined_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (source, endpoint, ingest_date, content_hash)
        )""").format(raw)
    )
    cur.execute(
        sql.SQL("""
        CREATE TABLE IF NOT EXISTS {}.ingest_runs (
            id bigserial PRIMARY KEY,
            run_id text NOT NULL,
            source text NOT NULL,
            endpoint text NOT NULL,
            ingest_date date NOT NULL,
            status text NOT NULL,
            pages integer NOT NULL DEFAULT 0,
            records integer NOT NULL DEFAULT 0,
            loaded integer NOT NULL DEFAULT 0,
            quarantined integer NOT NULL DEFAULT 0,
            quarantine_rate double precision NOT NULL DEFAULT 0,
            drift_fields jsonb NOT NULL DEFAULT '{{}}',
            api_calls integer NOT NULL DEFAULT 0,
            duration_seconds double precision,
            started_at timestamptz,
            finished_at timestamptz NOT NULL DEFAULT now(),
            manifest_uri text,
            message text
        )""").format(ops)
    )
    cur.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS ingest_runs_endpoint_date ON {}.ingest_runs (source, endpoint, ingest_date)"
        ).format(ops)
    )


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


class _RowStream(io.RawIOBase):
    """A file-like object COPY reads from, fed by a row generator: constant memory.

    psycopg2 reads 8 KiB at a time while one batch of rows is tens of MB of CSV, so the pending
    bytes live in a bytearray whose consumed prefix is deleted in place (O(1) in CPython): slicing
    an immutable bytes buffer on every read made the load quadratic (bench/RESULTS.md, hot spot 1).
    """

    def __init__(self, rows: Iterator[list[Any]]):
        self._rows = rows
        self._pending = bytearray()
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        while size < 0 or len(self._pending) < size:
            try:
                chunk = next(self._rows)
            except StopIteration:
                break
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(chunk)
            self.count += len(chunk)
            self._pending += out.getvalue().encode("utf-8")
        n = len(self._pending) if size < 0 else min(size, len(self._pending))
        data = bytes(self._pending[:n])
        del self._pending[:n]
        return data


@dataclass(frozen=True)
class LoadResult:
    status: str
    records: int
    copied: int
    inserted: int
    quarantined: int
    quarantine_rate: float


LOAD_BATCH_ROWS = 500


def _valid_rows(
    store: BronzeStore, manifest: dict[str, Any], ingested_at: str, run_id: str
) -> Iterator[list[list]]:
    for part in manifest["parts"]:
        uri = store.loc.uri(part["key"])
        # Small batches bound what one read holds (rows, their CSV, its bytes); see bench/RESULTS.md.
        for batch in store.iter_part_batches(
            part["key"], ["_record_key", "_content_hash", "payload", "_valid"], batch_size=LOAD_BATCH_ROWS
        ):
            columns = batch.to_pydict()
            yield [
                [key, digest, payload, ingested_at, run_id, uri]
                for key, digest, payload, valid in zip(
                    columns["_record_key"],
                    columns["_content_hash"],
                    columns["payload"],
                    columns["_valid"],
                    strict=True,
                )
                if valid
            ]


def _quarantine_rows(store: BronzeStore, manifest: dict[str, Any]) -> Iterator[list[list]]:
    for part in manifest["parts"]:
        if not part.get("quarantine_key"):
            continue
        uri = store.loc.uri(part["quarantine_key"])
        for batch in store.iter_part_batches(
            part["quarantine_key"], ["_record_key", "_content_hash", "payload", "_errors"]
        ):
            c = batch.to_pydict()
            yield [
                [key, digest, payload, errors, uri]
                for key, digest, payload, errors in zip(
                    c["_record_key"], c["_content_hash"], c["payload"], c["_errors"], strict=True
                )
            ]


def already_loaded(cur: Any, ops_schema: str, endpoint: ResolvedEndpoint, manifest_uri: str) -> bool:
    cur.execute(
        sql.SQL("SELECT 1 FROM {}.ingest_runs WHERE manifest_uri = %s AND status = 'loaded' LIMIT 1").format(
            _ident(ops_schema)
        ),
        (manifest_uri,),
    )
    return cur.fetchone() is not None


def record_run(
    cur: Any,
    ops_schema: str,
    *,
    run_id: str,
    endpoint: ResolvedEndpoint,
    manifest: dict[str, Any],
    status: str,
    loaded: int,
    api_calls: int,
    duration: float,
    started_at: datetime,
    manifest_uri: str,
    message: str | None = None,
) -> None:
    records = int(manifest.get("records", 0))
    invalid = int(manifest.get("invalid", 0))
    cur.execute(
        sql.SQL("""
        INSERT INTO {}.ingest_runs (run_id, source, endpoint, ingest_date, status, pages, records, loaded,
            quarantined, quarantine_rate, drift_fields, api_calls, duration_seconds, started_at, manifest_uri, message)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""").format(
            _ident(ops_schema)
        ),
        (
            run_id,
            endpoint.source,
            endpoint.name,
            manifest["ingest_date"],
            status,
            int(manifest.get("pages", 0)),
            records,
            loaded,
            invalid,
            (invalid / records) if records else 0.0,
            json.dumps(manifest.get("drift_fields", {})),
            api_calls,
            duration,
            started_at,
            manifest_uri,
            message,
        ),
    )


def load_landing(
    conn: Any,
    store: BronzeStore,
    endpoint: ResolvedEndpoint,
    manifest: dict[str, Any],
    manifest_uri: str,
    run_id: str,
    raw_schema: str,
    ops_schema: str,
    api_calls: int,
    started_at: datetime,
) -> LoadResult:
    """Load one landing in one transaction. Raises QuarantineThresholdExceeded (after recording the
    quarantine and the failed run) when too many records were invalid."""
    import time

    # A run's duration is its extract (when this run fetched) plus this load.
    extract_seconds = float(manifest.get("extract_seconds", 0.0)) if api_calls else 0.0
    clock = time.monotonic() - extract_seconds
    records, invalid = int(manifest["records"]), int(manifest["invalid"])
    rate = invalid / records if records else 0.0
    ingested_at = datetime.now(UTC).isoformat()
    raw, table = _ident(raw_schema), _ident(endpoint.table_name)
    with conn:  # one transaction: commit on success, roll back on any error
        with conn.cursor() as cur:
            ensure_ops_tables(cur, raw_schema, ops_schema)
            ensure_staging_table(cur, raw_schema, endpoint.table_name)
            if already_loaded(cur, ops_schema, endpoint, manifest_uri):
                record_run(
                    cur,
                    ops_schema,
                    run_id=run_id,
                    endpoint=endpoint,
                    manifest=manifest,
                    status="skipped_already_loaded",
                    loaded=0,
                    api_calls=api_calls,
                    duration=time.monotonic() - clock,
                    started_at=started_at,
                    manifest_uri=manifest_uri,
                )
                return LoadResult("skipped_already_loaded", records, 0, 0, invalid, rate)

            quarantine = _RowStream(_quarantine_rows(store, manifest))
            cur.execute(
                "CREATE TEMP TABLE _quarantine_in (record_key text, content_hash text, raw_record jsonb, "
                "errors jsonb, s3_uri text) ON COMMIT DROP"
            )
            cur.copy_expert("COPY _quarantine_in FROM STDIN WITH (FORMAT csv)", quarantine)
            cur.execute(
                sql.SQL("""
                INSERT INTO {}.quarantine (source, endpoint, run_id, ingest_date, content_hash, record_key,
                                           raw_record, errors, s3_uri)
                SELECT %s, %s, %s, %s, content_hash, record_key, raw_record, errors, s3_uri FROM _quarantine_in
                ON CONFLICT (source, endpoint, ingest_date, content_hash) DO NOTHING""").format(raw),
                (endpoint.source, endpoint.name, run_id, manifest["ingest_date"]),
            )

            if records and rate > endpoint.quarantine_threshold:
                top = next(iter(manifest.get("error_counts", {}).items()), ("?", 0))
                message = (
                    f"{endpoint.dag_id}: {invalid} of {records} records ({rate:.1%}) failed validation, "
                    f"above the threshold of {endpoint.quarantine_threshold:.1%}; most common error: "
                    f"{top[0]} ({top[1]}x). They are in {raw_schema}.quarantine; nothing was loaded."
                )
                record_run(
                    cur,
                    ops_schema,
                    run_id=run_id,
                    endpoint=endpoint,
                    manifest=manifest,
                    status="failed_quarantine_threshold",
                    loaded=0,
                    api_calls=api_calls,
                    duration=time.monotonic() - clock,
                    started_at=started_at,
                    manifest_uri=manifest_uri,
                    message=message,
                )
                conn.commit()
                raise QuarantineThresholdExceeded(message)

            cur.execute(
                sql.SQL("CREATE TEMP TABLE _staging_in (LIKE {}.{}) ON COMMIT DROP").format(raw, table)
            )
            rows = _RowStream(_valid_rows(store, manifest, ingested_at, run_id))
            cur.copy_expert(
                "COPY _staging_in (_record_key, _content_hash, payload, _ingested_at, _run_id, "
                "_source_uri) FROM STDIN WITH (FORMAT csv)",
                rows,
            )
            expected = int(manifest["valid"])
            if rows.count != expected:
                raise LoadMismatchError(
                    f"{endpoint.dag_id}: copied {rows.count} rows but the manifest lists "
                    f"{expected} valid records ({manifest_uri}); nothing was committed"
                )
            cur.execute(
                sql.SQL("""
                INSERT INTO {}.{} SELECT * FROM _staging_in
                ON CONFLICT (_record_key, _content_hash) DO NOTHING""").format(raw, table)
            )
            inserted = cur.rowcount
            record_run(
                cur,
                ops_schema,
                run_id=run_id,
                endpoint=endpoint,
                manifest=manifest,
                status="loaded",
                loaded=inserted,
                api_calls=api_calls,
                duration=time.monotonic() - clock,
                started_at=started_at,
                manifest_uri=manifest_uri,
            )
    log.info(
        "%s: copied %s rows, %s new (unchanged ones skipped), %s quarantined",
        endpoint.dag_id,
        rows.count,
        inserted,
        invalid,
    )
    return LoadResult("loaded", records, rows.count, inserted, invalid, rate)
