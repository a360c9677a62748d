"""The COPY feed: Arrow's CSV of a batch reads back, under Postgres' CSV rules, as exactly the rows."""

from __future__ import annotations

import csv
import io

import pyarrow as pa

from game_market_pipeline.ingest.staging import _csv, _with_source


def test_payloads_with_quotes_commas_newlines_and_unicode_survive_the_csv():
    payloads = ['{"name":"Pokémon, \\"quoted\\"","n":1}', "line one\nline two", "", "😀 中文 \u2028"]
    batch = pa.RecordBatch.from_pydict(
        {
            "_record_key": [str(i) for i in range(len(payloads))],
            "_content_hash": ["h"] * len(payloads),
            "payload": payloads,
        }
    )
    rendered = _csv(_with_source(batch, ["_record_key", "_content_hash", "payload"], "s3://b/p.parquet"))
    rows = list(csv.reader(io.StringIO(rendered.read().decode("utf-8"), newline="")))
    assert rows == [[str(i), "h", p, "s3://b/p.parquet"] for i, p in enumerate(payloads)]


def test_null_is_written_unquoted_and_empty_string_quoted():
    # Postgres' CSV reads an unquoted empty field as NULL and "" as the empty string.
    batch = pa.RecordBatch.from_pydict({"a": [None, ""]}, schema=pa.schema([("a", pa.string())]))
    assert _csv(batch).read() == b'\n""\n'


def test_the_copy_stream_yields_every_batch_whole_whatever_the_read_size():
    from game_market_pipeline.ingest.staging import _CsvStream

    batches = [
        pa.RecordBatch.from_pydict(
            {"k": [str(i) for i in range(start, start + 50)], "p": ['é,"x"\n' * 30] * 50}
        )
        for start in (0, 50, 100)
    ]
    expected = b"".join(_csv(b).read() for b in batches)
    for size in (1, 7, 4096, 1 << 20, -1):
        stream, chunks = _CsvStream(iter(batches)), []
        while chunk := stream.read(size):
            assert size < 0 or len(chunk) <= size
            chunks.append(chunk)
        assert b"".join(chunks) == expected
    assert _CsvStream(iter([])).read(10) == b""
