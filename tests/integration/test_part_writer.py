"""A bronze part is written row group by row group (memory holds one) and lands exactly as listed."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import boto3
import pyarrow.parquet as pq

from game_market_pipeline.ingest.bronze import BronzeStore, LandingLocation, PartWriter
from game_market_pipeline.ingest.landing_contract import Checkpoint
from game_market_pipeline.ingest.validate import CheckedRecord


def _record(i: int) -> CheckedRecord:
    payload = json.dumps({"id": i, "name": f"Pokémon {i}"}, ensure_ascii=False).encode()
    errors = [{"type": "int_type", "loc": ["rating"], "msg": "bad"}] if i % 7 == 0 else None
    return CheckedRecord(str(i), hashlib.sha256(payload).hexdigest(), payload, errors)


def test_part_lands_its_row_groups_quarantine_and_checkpoint_last(s3_endpoint, s3_bucket):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store = BronzeStore(
        client, LandingLocation(s3_bucket, "bronze", "quarantine", "rawg", "games", date(2026, 11, 22))
    )
    records = [_record(i) for i in range(1, 1201)]
    writer = PartWriter(store, 3)
    for start, pages in ((0, 7), (500, 8), (1000, 9)):
        chunk = records[start : start + 500]
        writer.add(chunk, [pages] * len(chunk))
    checkpoint = writer.upload({"next_request": None, "filters": {}, "stats": {}, "api_calls": 3})

    body = client.get_object(Bucket=s3_bucket, Key=checkpoint.key)["Body"].read()
    part = pq.ParquetFile(io.BytesIO(body))
    assert [part.metadata.row_group(i).num_rows for i in range(part.num_row_groups)] == [500, 500, 200]
    table = part.read()
    assert table.column("payload").to_pylist() == [r.payload.decode() for r in records]
    assert table.column("_valid").to_pylist() == [r.valid for r in records]
    invalid = [r for r in records if not r.valid]
    quarantine = pq.read_table(
        io.BytesIO(client.get_object(Bucket=s3_bucket, Key=checkpoint.quarantine_key)["Body"].read())
    )
    assert quarantine.column("_record_key").to_pylist() == [r.key for r in invalid]
    assert checkpoint.file_sha256 == hashlib.sha256(body).hexdigest()
    assert (
        checkpoint.records_sha256
        == hashlib.sha256("".join(r.content_hash for r in records).encode()).hexdigest()
    )
    assert (checkpoint.records, checkpoint.valid, checkpoint.invalid) == (
        1200,
        1200 - len(invalid),
        len(invalid),
    )
    assert (checkpoint.first_page, checkpoint.last_page, checkpoint.part) == (7, 9, 3)
    stored = json.loads(client.get_object(Bucket=s3_bucket, Key=store.loc.checkpoint_key(3))["Body"].read())
    assert Checkpoint.model_validate(stored) == checkpoint


def test_an_empty_part_is_a_valid_empty_parquet_file(s3_endpoint, s3_bucket):
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    store = BronzeStore(
        client, LandingLocation(s3_bucket, "bronze", "quarantine", "rawg", "games", date(2026, 11, 22))
    )
    checkpoint = PartWriter(store, 1).upload(
        {"next_request": None, "filters": {}, "stats": {}, "api_calls": 1}
    )
    body = client.get_object(Bucket=s3_bucket, Key=checkpoint.key)["Body"].read()
    assert pq.read_table(io.BytesIO(body)).num_rows == 0
    assert checkpoint.records == 0 and checkpoint.quarantine_key is None and checkpoint.first_page is None
