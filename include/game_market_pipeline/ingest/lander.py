"""The one writer of bronze parts: checked records in, landed parts (with their checkpoints) out.

Records fill the open part a row group at a time (bronze.PartWriter spools it to a local Parquet
file, so memory holds a row group, not the part). `close_part` uploads the part in the background
while the walk goes on fetching; at most one upload is in flight, and a failed one stops the walk
at once (`on_failure`), not a part later (issue 19).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from game_market_pipeline.ingest.bronze import ROW_GROUP_RECORDS, BronzeStore, PartWriter
from game_market_pipeline.ingest.landing_contract import Checkpoint
from game_market_pipeline.ingest.validate import CheckedRecord


class PartLander:
    def __init__(self, store: BronzeStore, first_part: int, on_failure: Callable[[str], Any] | None = None):
        self._store = store
        self._on_failure = on_failure
        self._number = first_part
        self._writer = PartWriter(store, first_part)
        self._buffer: list[CheckedRecord] = []
        self._pages: list[int] = []
        self._in_flight: Future[Checkpoint] | None = None
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="land")
        self.landed: list[Checkpoint] = []

    def __enter__(self) -> PartLander:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if error is None:
                self._collect()
        finally:
            self._uploads.shutdown(wait=True)
            self._writer.discard()  # the part opened after the last one closed

    @property
    def open_records(self) -> int:
        """Records in the part not landed yet."""
        return self._writer.records + len(self._buffer)

    def add(self, records: list[CheckedRecord], page_index: int) -> None:
        self._buffer.extend(records)
        self._pages.extend([page_index] * len(records))
        if len(self._buffer) >= ROW_GROUP_RECORDS:
            self._flush()

    def close_part(self, walk_fields: dict[str, Any]) -> None:
        """Upload the open part with its checkpoint's walk fields (where the walk goes on, its
        counts and calls); the next records go into a new part."""
        self._flush()
        self._collect()
        self._in_flight = self._uploads.submit(self._writer.upload, walk_fields)
        self._in_flight.add_done_callback(self._stop_walk_if_failed)
        self._number += 1
        self._writer = PartWriter(self._store, self._number)

    def _flush(self) -> None:
        self._writer.add(self._buffer, self._pages)
        self._buffer, self._pages = [], []

    def _collect(self) -> None:
        if self._in_flight is not None:
            self.landed.append(self._in_flight.result())
            self._in_flight = None

    def _stop_walk_if_failed(self, upload: Future[Checkpoint]) -> None:
        if self._on_failure is not None and not upload.cancelled() and upload.exception() is not None:
            self._on_failure(f"uploading a part to S3 failed: {upload.exception()}")
