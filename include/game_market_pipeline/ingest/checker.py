"""Record checks, one interface: raw records of a page in, checked records out (validated, hashed,
secrets redacted), counted into the part's ValidationStats. In the task's own process: in
production a task is a one-CPU pod, and the APIs' rate limits bound a walk long before its CPU
does (bench/history/2026-12-04-one-cpu-before-after.md)."""

from __future__ import annotations

from typing import Any, Protocol

from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.ingest.redaction import Redactor
from game_market_pipeline.ingest.validate import CheckedRecord, ValidationStats, check_record, redact_secrets
from game_market_pipeline.records.registry import record_model


class Checker(Protocol):
    def check(self, raw_records: list[Any], stats: ValidationStats) -> list[CheckedRecord]: ...


class RecordChecker:
    """The endpoint's record model decides; the configured secret never lands."""

    def __init__(self, endpoint: ResolvedEndpoint, redactor: Redactor) -> None:
        self._model = record_model(endpoint.record_model)
        self._primary_key = endpoint.primary_key
        self._redactor = redactor

    def check(self, raw_records: list[Any], stats: ValidationStats) -> list[CheckedRecord]:
        return [
            redact_secrets(check_record(raw, self._model, self._primary_key, stats), self._redactor)
            for raw in raw_records
        ]
