"""Staging appends: lz4 where the server has it, only rows the table lacks, each once."""

from __future__ import annotations

import json

import psycopg2

from game_market_pipeline.ingest.staging import ensure_staging_table, prefer_lz4_toast


def test_new_payloads_use_lz4_when_the_server_has_it_and_pglz_otherwise(fresh_pg_url):
    conn = psycopg2.connect(fresh_pg_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA raw")
            ensure_staging_table(cur, "raw", "t")
            has_lz4 = prefer_lz4_toast(cur)
            # Compressible and over the 2 KB TOAST threshold, like a RAWG game.
            payload = json.dumps({"description": "pokemon " * 2000})
            cur.execute(
                "INSERT INTO raw.t VALUES ('1', 'h', %s::jsonb, now(), 'run', 's3://b/k')", (payload,)
            )
        with conn, conn.cursor() as cur:
            cur.execute("SELECT pg_column_compression(payload), payload = %s::jsonb FROM raw.t", (payload,))
            method, same = cur.fetchone()
            cur.execute("SHOW default_toast_compression")
            (after,) = cur.fetchone()
        assert same
        assert method == ("lz4" if has_lz4 else "pglz")
        assert after == "pglz"  # SET LOCAL: only that transaction, not the session
    finally:
        conn.close()


class ListPart:
    """A part's valid rows as in-memory batches (ValidPart reads them from a Parquet spool)."""

    def __init__(self, *batches):
        self._batches = batches

    def keys(self):
        import pyarrow as pa

        return pa.Table.from_batches(self._batches).select(["_record_key", "_content_hash"])

    def batches(self):
        return iter(self._batches)


def test_append_skips_rows_already_held_and_duplicates_within_and_across_parts(fresh_pg_url):
    import pyarrow as pa
    from psycopg2 import sql

    from game_market_pipeline.ingest.staging import _append_new_rows, _lock_table

    def batch(rows):
        keys, hashes = zip(*rows, strict=True)
        return pa.RecordBatch.from_pydict(
            {
                "_record_key": list(keys),
                "_content_hash": list(hashes),
                "payload": [json.dumps({"id": k, "v": h}) for k, h in rows],
                "_source_uri": ["s3://b/part-1.parquet"] * len(rows),
            }
        )

    conn = psycopg2.connect(fresh_pg_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA raw")
            ensure_staging_table(cur, "raw", "t")
            cur.execute(
                """INSERT INTO raw.t VALUES ('1', 'a', '{"id": "1", "v": "a"}', now(), 'old', 's3://b/old')"""
            )
        with conn, conn.cursor() as cur:
            _lock_table(cur, "raw", "t")
            read, appended = _append_new_rows(
                cur,
                [
                    # within a part, over two of its batches: 1a is held, 2a twice, 1b and 4a new
                    ListPart(batch([("1", "a"), ("2", "a")]), batch([("2", "a"), ("1", "b"), ("4", "a")])),
                    ListPart(batch([("2", "a"), ("3", "a")])),  # 2a appended by the part before
                    ListPart(batch([("3", "a")]), batch([("5", "a")])),  # a new row in its last batch only
                ],
                sql.SQL("raw.t"),
                "2026-11-22T00:00:00+00:00",
                "run-2",
            )
        assert (read, appended) == (9, 5)
        with conn.cursor() as cur:
            cur.execute(
                "SELECT _record_key, _content_hash, payload ->> 'v', _run_id FROM raw.t ORDER BY 1, 2"
            )
            assert cur.fetchall() == [
                ("1", "a", "a", "old"),
                ("1", "b", "b", "run-2"),
                ("2", "a", "a", "run-2"),
                ("3", "a", "a", "run-2"),
                ("4", "a", "a", "run-2"),
                ("5", "a", "a", "run-2"),
            ]
    finally:
        conn.close()
