"""The COPY feed: exact CSV bytes, any read size, rows counted, nothing held beyond one batch."""

from __future__ import annotations

import csv
import io
import time

from game_market_pipeline.ingest.staging import _RowStream


def _batches(n_batches: int, rows_per_batch: int, payload: str):
    for b in range(n_batches):
        yield [[f"k{b}-{i}", "h", payload, "2026-01-01", "run", "s3://x/y"] for i in range(rows_per_batch)]


def test_stream_yields_the_exact_csv_whatever_the_read_size():
    payload = '{"name":"Pokémon, \\"quoted\\"","n":1}\nsecond line'
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    for batch in _batches(3, 7, payload):
        writer.writerows(batch)
    for size in (1, 5, 8192, -1):
        stream = _RowStream(_batches(3, 7, payload))
        parts = []
        while chunk := stream.read(size):
            parts.append(chunk)
        assert b"".join(parts) == expected.getvalue().encode("utf-8")
        assert stream.count == 21


def test_reading_a_big_batch_in_small_pieces_is_linear():
    # 5,000 rows of 8 KB (one bronze batch of RAWG games) read 8 KiB at a time, as psycopg2 does:
    # the earlier quadratic buffer needed tens of seconds here, the bytearray well under one.
    stream = _RowStream(_batches(1, 5000, "x" * 8000))
    started = time.perf_counter()
    total = 0
    while chunk := stream.read(8192):
        total += len(chunk)
    assert total > 40_000_000
    assert time.perf_counter() - started < 3.0
