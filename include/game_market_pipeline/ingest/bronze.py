"""The bronze layer in S3: immutable Parquet parts, per-part checkpoints, a manifest written last.

Layout (Hive-style, one folder per logical date):
    <bronze>/source=<s>/endpoint=<e>/ingest_date=<YYYY-MM-DD>/part-00001.parquet
                                                              part-00001.checkpoint.json
                                                              _manifest.json   (last: the date is complete)
    <quarantine>/source=<s>/endpoint=<e>/ingest_date=<YYYY-MM-DD>/part-00001.parquet  (invalid records + errors)

Every record of the API is landed (valid or not) with its content hash; a checkpoint says where
the walk continues after its part, so a killed run resumes from the last landed part. No key is
ever overwritten: a part left without its checkpoint by a crash is ignored and a new number used.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from game_market_pipeline.ingest.validate import CheckedRecord

SCHEMA_VERSION = 1
MANIFEST_NAME = "_manifest.json"
_PART = re.compile(r"part-(\d{5})\.(parquet|checkpoint\.json)$")

BRONZE_SCHEMA = pa.schema(
    [
        ("_record_key", pa.string()),
        ("_content_hash", pa.string()),
        ("payload", pa.string()),
        ("_valid", pa.bool_()),
        ("_errors", pa.string()),
        ("_page", pa.int32()),
    ]
)


@dataclass(frozen=True)
class LandingLocation:
    bucket: str
    bronze_prefix: str
    quarantine_prefix: str
    source: str
    endpoint: str
    ingest_date: date

    def _suffix(self, date_value: date | None = None) -> str:
        day = (date_value or self.ingest_date).isoformat()
        return f"source={self.source}/endpoint={self.endpoint}/ingest_date={day}/"

    @property
    def prefix(self) -> str:
        return f"{self.bronze_prefix}/{self._suffix()}"

    @property
    def endpoint_prefix(self) -> str:
        return f"{self.bronze_prefix}/source={self.source}/endpoint={self.endpoint}/"

    @property
    def manifest_key(self) -> str:
        return self.prefix + MANIFEST_NAME

    def part_key(self, number: int) -> str:
        return f"{self.prefix}part-{number:05d}.parquet"

    def checkpoint_key(self, number: int) -> str:
        return f"{self.prefix}part-{number:05d}.checkpoint.json"

    def quarantine_key(self, number: int) -> str:
        return f"{self.quarantine_prefix}/{self._suffix()}part-{number:05d}.parquet"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


class BronzeStore:
    """S3 access for one landing location; `client` is a boto3 S3 client (endpoint URL included)."""

    def __init__(self, client: Any, location: LandingLocation):
        self.client = client
        self.loc = location

    # -- reading state ----------------------------------------------------------------------

    def _get_json(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.loc.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def manifest(self) -> dict[str, Any] | None:
        manifest = self._get_json(self.loc.manifest_key)
        return manifest if manifest and manifest.get("complete") else None

    def _list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.loc.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def checkpoints(self) -> tuple[list[dict[str, Any]], int]:
        """Landed parts' checkpoints in order, and the highest part number seen (orphans included)."""
        numbers_with_checkpoint, highest = [], 0
        for key in self._list_keys(self.loc.prefix):
            match = _PART.search(key)
            if not match:
                continue
            number = int(match.group(1))
            highest = max(highest, number)
            if match.group(2) == "checkpoint.json":
                numbers_with_checkpoint.append(number)
        checkpoints = [self._get_json(self.loc.checkpoint_key(n)) for n in sorted(numbers_with_checkpoint)]
        return [c for c in checkpoints if c], highest

    def previous_manifest(self) -> dict[str, Any] | None:
        """The newest complete manifest of an earlier logical date (the incremental watermark)."""
        paginator = self.client.get_paginator("list_objects_v2")
        days = []
        for page in paginator.paginate(
            Bucket=self.loc.bucket, Prefix=self.loc.endpoint_prefix, Delimiter="/"
        ):
            for common in page.get("CommonPrefixes", []):
                match = re.search(r"ingest_date=(\d{4}-\d{2}-\d{2})/$", common["Prefix"])
                if match and match.group(1) < self.loc.ingest_date.isoformat():
                    days.append(match.group(1))
        for day in sorted(days, reverse=True):
            manifest = self._get_json(f"{self.loc.endpoint_prefix}ingest_date={day}/{MANIFEST_NAME}")
            if manifest and manifest.get("complete"):
                return manifest
        return None

    # -- writing ----------------------------------------------------------------------------

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.loc.bucket, Key=key, Body=body, ContentType=content_type)

    def write_part(
        self, number: int, records: list[CheckedRecord], pages: list[int], checkpoint: dict[str, Any]
    ) -> dict[str, Any]:
        """Land one part (Parquet, then quarantine, then its checkpoint last) and return the checkpoint."""
        table = pa.table(
            {
                "_record_key": [r.key for r in records],
                "_content_hash": [r.content_hash for r in records],
                "payload": [r.payload_json for r in records],
                "_valid": [r.valid for r in records],
                "_errors": [None if r.valid else json.dumps(r.errors) for r in records],
                "_page": [p for p in pages],
            },
            schema=BRONZE_SCHEMA,
        )
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        data = buffer.getvalue()
        self._put(self.loc.part_key(number), data, "application/vnd.apache.parquet")
        invalid = [i for i, r in enumerate(records) if not r.valid]
        quarantine_key = None
        if invalid:
            buffer = io.BytesIO()
            pq.write_table(table.take(invalid), buffer, compression="zstd")
            quarantine_key = self.loc.quarantine_key(number)
            self._put(quarantine_key, buffer.getvalue(), "application/vnd.apache.parquet")
        # Digest over the ordered record hashes: the part's content, independent of Parquet encoding.
        records_digest = hashlib.sha256("".join(r.content_hash for r in records).encode()).hexdigest()
        checkpoint = {
            **checkpoint,
            "part": number,
            "key": self.loc.part_key(number),
            "quarantine_key": quarantine_key,
            "records": len(records),
            "valid": len(records) - len(invalid),
            "invalid": len(invalid),
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "records_sha256": records_digest,
        }
        self._put(
            self.loc.checkpoint_key(number),
            json.dumps(checkpoint, sort_keys=True).encode(),
            "application/json",
        )
        return checkpoint

    def write_manifest(self, manifest: dict[str, Any]) -> str:
        self._put(
            self.loc.manifest_key, json.dumps(manifest, sort_keys=True, indent=1).encode(), "application/json"
        )
        return self.loc.uri(self.loc.manifest_key)

    # -- reading parts back -------------------------------------------------------------------

    def iter_part_batches(
        self, key: str, columns: list[str], batch_size: int = 5000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a part's rows in batches (spooled to a temp file, never whole in memory)."""
        with tempfile.TemporaryFile() as spool:
            self.client.download_fileobj(self.loc.bucket, key, spool)
            spool.seek(0)
            parquet = pq.ParquetFile(spool)
            yield from parquet.iter_batches(batch_size=batch_size, columns=columns)


def location_from_uri(manifest_uri: str) -> tuple[str, str]:
    match = re.match(r"^s3://([^/]+)/(.+)$", manifest_uri)
    if not match:
        raise ValueError(f"not an s3:// URI: {manifest_uri!r}")
    return match.group(1), match.group(2)
