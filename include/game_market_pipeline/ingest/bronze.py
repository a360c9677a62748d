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
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from game_market_pipeline.ingest.landing_contract import MANIFEST_NAME, Checkpoint, Manifest
from game_market_pipeline.ingest.validate import CheckedRecord

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

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.loc.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def get_json(self, key: str) -> Any:
        body = self.get_bytes(key)
        return None if body is None else json.loads(body)

    def _complete_manifest(self, key: str) -> Manifest | None:
        body = self.get_bytes(key)
        if body is None:
            return None
        manifest = Manifest.from_json(body)
        return manifest if manifest.complete else None

    def manifest(self) -> Manifest | None:
        return self._complete_manifest(self.loc.manifest_key)

    def _list_keys(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.loc.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def checkpoints(self) -> tuple[list[Checkpoint], int]:
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
        bodies = [self.get_bytes(self.loc.checkpoint_key(n)) for n in sorted(numbers_with_checkpoint)]
        return [Checkpoint.model_validate_json(body) for body in bodies if body], highest

    def previous_manifest(self) -> Manifest | None:
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
            manifest = self._complete_manifest(f"{self.loc.endpoint_prefix}ingest_date={day}/{MANIFEST_NAME}")
            if manifest is not None:
                return manifest
        return None

    # -- writing ----------------------------------------------------------------------------

    def put_json(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.loc.bucket, Key=key, Body=body, ContentType="application/json")

    def write_manifest(self, manifest: Manifest) -> str:
        self.put_json(self.loc.manifest_key, manifest.to_json_bytes(indent=1))
        return self.loc.uri(self.loc.manifest_key)

    # -- reading parts back -------------------------------------------------------------------

    def spool_part(self, key: str) -> Any:
        """A part downloaded to a local temporary file (the caller closes it): read as Parquet from
        there, so it is never whole in memory."""
        spool = tempfile.TemporaryFile()
        try:
            # A plain streamed GET: download_fileobj's parallel ranged GETs buffer up to 80 MB.
            body = self.client.get_object(Bucket=self.loc.bucket, Key=key)["Body"]
            while chunk := body.read(1 << 20):
                spool.write(chunk)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool

    def iter_part_batches(
        self, key: str, columns: list[str], batch_size: int = 5000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a part's rows in batches (spooled to a temp file, never whole in memory)."""
        with self.spool_part(key) as spool:
            yield from pq.ParquetFile(spool).iter_batches(batch_size=batch_size, columns=columns)


# Rows per Parquet row group: what the extract holds in Python at once, and the load's read batch.
ROW_GROUP_RECORDS = 500


def _arrow_table(records: list[CheckedRecord], pages: list[int]) -> pa.Table:
    return pa.table(
        {
            "_record_key": [r.key for r in records],
            "_content_hash": [r.content_hash for r in records],
            "payload": [r.payload for r in records],  # UTF-8 bytes, checked by Arrow
            "_valid": [r.valid for r in records],
            "_errors": [None if r.valid else json.dumps(r.errors) for r in records],
            "_page": pages,
        },
        schema=BRONZE_SCHEMA,
    )


class PartWriter:
    """One part, written as its records are validated: each row group goes to a local zstd Parquet
    spool file, so memory holds a row group, not the part. `upload` then lands the part, its
    quarantine (the invalid records, if any) and, last, its checkpoint.
    """

    def __init__(self, store: BronzeStore, number: int):
        self.store = store
        self.number = number
        self.records = 0
        self.invalid = 0
        self.first_page: int | None = None
        self.last_page: int | None = None
        self._records_digest = hashlib.sha256()  # over the ordered record hashes (Parquet-independent)
        self._spool = tempfile.TemporaryFile()
        self._writer = pq.ParquetWriter(self._spool, BRONZE_SCHEMA, compression="zstd")
        self._quarantine_spool: Any = None
        self._quarantine_writer: pq.ParquetWriter | None = None

    def add(self, records: list[CheckedRecord], pages: list[int]) -> None:
        if not records:
            return
        table = _arrow_table(records, pages)
        self._writer.write_table(table, row_group_size=len(records))
        invalid = [i for i, r in enumerate(records) if not r.valid]
        if invalid:
            if self._quarantine_writer is None:
                self._quarantine_spool = tempfile.TemporaryFile()
                self._quarantine_writer = pq.ParquetWriter(
                    self._quarantine_spool, BRONZE_SCHEMA, compression="zstd"
                )
            self._quarantine_writer.write_table(table.take(invalid))
        for record in records:
            self._records_digest.update(record.content_hash.encode())
        self.records += len(records)
        self.invalid += len(invalid)
        self.first_page = min(pages) if self.first_page is None else min(self.first_page, *pages)
        self.last_page = max(pages) if self.last_page is None else max(self.last_page, *pages)

    def upload(self, walk_fields: dict[str, Any]) -> Checkpoint:
        """Land the part (Parquet, then quarantine, then its checkpoint last) and return the checkpoint;
        `walk_fields`: the checkpoint's fields the walk knows (where it goes on, its counts)."""
        loc = self.store.loc
        try:
            self._writer.close()
            file_sha256 = self._put_spool(loc.part_key(self.number), self._spool)
            quarantine_key = None
            if self._quarantine_writer is not None:
                self._quarantine_writer.close()
                quarantine_key = loc.quarantine_key(self.number)
                self._put_spool(quarantine_key, self._quarantine_spool)
        finally:
            self._spool.close()
            if self._quarantine_spool is not None:
                self._quarantine_spool.close()
        checkpoint = Checkpoint.model_validate(
            {
                **walk_fields,
                "first_page": self.first_page,
                "last_page": self.last_page,
                "part": self.number,
                "key": loc.part_key(self.number),
                "quarantine_key": quarantine_key,
                "records": self.records,
                "valid": self.records - self.invalid,
                "invalid": self.invalid,
                "file_sha256": file_sha256,
                "records_sha256": self._records_digest.hexdigest(),
            }
        )
        self.store.put_json(loc.checkpoint_key(self.number), checkpoint.to_json_bytes())
        return checkpoint

    def discard(self) -> None:
        """Drop a part that will not be uploaded (its local spool files)."""
        self._writer.close()
        self._spool.close()
        if self._quarantine_spool is not None:
            self._quarantine_spool.close()

    def _put_spool(self, key: str, spool: Any) -> str:
        spool.seek(0)
        digest = hashlib.sha256()
        while chunk := spool.read(1 << 20):
            digest.update(chunk)
        spool.seek(0)
        self.store.client.put_object(
            Bucket=self.store.loc.bucket, Key=key, Body=spool, ContentType="application/vnd.apache.parquet"
        )
        return digest.hexdigest()


def location_from_uri(manifest_uri: str) -> tuple[str, str]:
    match = re.match(r"^s3://([^/]+)/(.+)$", manifest_uri)
    if not match:
        raise ValueError(f"not an s3:// URI: {manifest_uri!r}")
    return match.group(1), match.group(2)
