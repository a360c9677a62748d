"""The landing contract: what the extract writes to S3 bronze and the load reads back.

One checkpoint per landed part (`part-NNNNN.checkpoint.json`, written after the part's Parquet
files), one manifest per logical date (`_manifest.json`, written last: the date is complete).
Written by ingest/extract.py (list walks) and ingest/details.py (details by fan-out), read by
them on a resume and by ingest/staging.py for the load. docs/CONTRACTS.md describes each field.

Readers ignore fields they do not know and every field added after the first manifests has a
default, so a manifest or checkpoint already in S3 stays readable by newer code
(tests/unit/test_landing_contract.py reads ones written before these models existed).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from game_market_pipeline.ingest.paginators import PageRequest

if TYPE_CHECKING:
    from game_market_pipeline.config.models import ResolvedEndpoint

SCHEMA_VERSION = 1
MANIFEST_NAME = "_manifest.json"


class _Contract(BaseModel):
    # extra="ignore": a field a newer writer adds never stops an older reader.
    model_config = ConfigDict(extra="ignore", frozen=True)
    # Fields of one kind of walk only: left out of the stored form when unset, as before they existed.
    _omitted_when_unset: ClassVar[frozenset[str]] = frozenset()

    def as_json(self) -> dict[str, Any]:
        """The stored form (JSON types)."""
        data = self.model_dump(mode="json")
        return {k: v for k, v in data.items() if v is not None or k not in self._omitted_when_unset}

    def to_json_bytes(self, indent: int | None = None) -> bytes:
        return json.dumps(self.as_json(), sort_keys=True, indent=indent).encode()


class ResumePoint(_Contract):
    """The page request a resumed walk starts with; never carries a credential."""

    index: int
    url: str
    params: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, request: PageRequest) -> ResumePoint:
        return cls(index=request.index, url=request.url, params=request.params)

    def request(self) -> PageRequest:
        return PageRequest(self.index, self.url, dict(self.params))


class ValidationCounts(_Contract):
    """Record checks of a part (or of the whole landing): counts and the most common findings."""

    records: int = 0
    invalid: int = 0
    error_counts: dict[str, int] = Field(default_factory=dict)
    drift_counts: dict[str, int] = Field(default_factory=dict)


class LandedPart(_Contract):
    """One Parquet part in bronze (and its quarantine file, when it has invalid records)."""

    part: int
    key: str
    quarantine_key: str | None = None
    records: int
    valid: int
    invalid: int
    file_sha256: str
    records_sha256: str  # over the part's ordered record hashes: independent of the Parquet encoding


class Checkpoint(LandedPart):
    """A landed part and where its walk goes on. A list walk keeps `next_request` (None: the walk
    ended with this part), `expected_records` and `filters`; a details walk `next_target` and the
    list versions it fetched (`fetched`) or found gone (`not_found`)."""

    first_page: int | None = None
    last_page: int | None = None
    stats: ValidationCounts = Field(default_factory=ValidationCounts)
    api_calls: int = 0
    next_request: ResumePoint | None = None
    expected_records: int | None = None
    filters: dict[str, Any] = Field(default_factory=dict)
    next_target: int | None = None
    fetched: dict[str, str] = Field(default_factory=dict)
    not_found: dict[str, str] = Field(default_factory=dict)

    def landed_part(self) -> LandedPart:
        return LandedPart.model_validate(self.model_dump(include=set(LandedPart.model_fields)))


class DetailsSummary(_Contract):
    """A details landing's work: what was planned, fetched, gone, and the backlog around it."""

    status: str
    list_endpoint: str
    backlog_before: int
    planned: int
    fetched: dict[str, str] = Field(default_factory=dict)
    not_found: dict[str, str] = Field(default_factory=dict)
    backlog_after: int


class BudgetResume(_Contract):
    """Where a list walk stopped at its source's call budget continues on the next date
    (ingest/walk_budget.py)."""

    next_request: ResumePoint
    filters: dict[str, Any] = Field(default_factory=dict)
    window_end: date  # the stopped walk's incremental window end
    records_so_far: int = 0  # records landed by the walk over every run so far
    expected_records: int | None = None
    stopped_on: date  # the logical date whose run stopped last


class Manifest(_Contract):
    """A logical date's landing, complete: its parts in order and what its checks found."""

    schema_version: int = SCHEMA_VERSION
    complete: bool
    source: str
    endpoint: str
    ingest_date: date
    run_id: str
    record_model: str
    primary_key: str
    filters: dict[str, Any] = Field(default_factory=dict)
    pages: int = 0
    records: int
    valid: int = -1  # -1: not written (early manifests); set to records - invalid on reading
    invalid: int
    error_counts: dict[str, int] = Field(default_factory=dict)
    drift_fields: dict[str, int] = Field(default_factory=dict)
    expected_records: int | None = None  # the API's count, where it sends one
    count_check: str | None = None  # ok | short_read | long_read (ingest/count_check.py)
    count_tolerance: float | None = None
    count_exact: bool = False
    count_message: str | None = None
    api_calls: int = 0
    resumed: bool = False
    details: DetailsSummary | None = None
    # A list walk under a call budget (ingest/walk_budget.py): `status` budget_exhausted and
    # `resume` when it stopped; `window_end` where the next incremental window starts;
    # `resumed_from` the date whose stopped walk this one finished.
    status: str | None = None
    resume: BudgetResume | None = None
    window_end: date | None = None
    resumed_from: date | None = None
    parts: list[LandedPart] = Field(default_factory=list)
    completed_at: datetime | None = None
    extract_seconds: float = 0.0

    _omitted_when_unset: ClassVar[frozenset[str]] = frozenset(
        {"details", "status", "resume", "window_end", "resumed_from"}
    )

    @model_validator(mode="after")
    def _valid_from_counts(self) -> Manifest:
        if self.valid < 0:
            object.__setattr__(self, "valid", self.records - self.invalid)
        return self

    @classmethod
    def from_json(cls, body: bytes | str) -> Manifest:
        return cls.model_validate_json(body)

    @classmethod
    def completed(
        cls,
        endpoint: ResolvedEndpoint,
        ingest_date: date,
        run_id: str,
        checkpoints: list[Checkpoint],
        calls: int,
        previous_calls: int,
        seconds: float,
        counts: ValidationCounts | None = None,
        **fields: Any,
    ) -> Manifest:
        """The closing manifest of a landing (list walk or details): the endpoint's identity, the counts
        summed over its parts (`counts` when the caller already has them), its parts in order; the calls
        of this try and of earlier tries of the same date (then it `resumed`). `fields`: what only one
        kind of walk records."""
        counts = merged_counts(checkpoints) if counts is None else counts
        return cls(
            complete=True,
            source=endpoint.source,
            endpoint=endpoint.name,
            ingest_date=ingest_date,
            run_id=run_id,
            record_model=endpoint.record_model,
            primary_key=endpoint.primary_key,
            records=counts.records,
            invalid=counts.invalid,
            error_counts=counts.error_counts,
            drift_fields=counts.drift_counts,
            api_calls=previous_calls + calls,
            resumed=bool(previous_calls),
            parts=[c.landed_part() for c in checkpoints],
            completed_at=datetime.now(UTC),
            extract_seconds=round(seconds, 3),
            **fields,
        )


def merged_counts(checkpoints: list[Checkpoint]) -> ValidationCounts:
    """The landing's counts: every part's, summed (findings keep their most common entries)."""
    from collections import Counter

    errors: Counter[str] = Counter()
    drift: Counter[str] = Counter()
    records = invalid = 0
    for checkpoint in checkpoints:
        records += checkpoint.stats.records
        invalid += checkpoint.stats.invalid
        errors.update(checkpoint.stats.error_counts)
        drift.update(checkpoint.stats.drift_counts)
    return ValidationCounts(
        records=records,
        invalid=invalid,
        error_counts=dict(errors.most_common(20)),
        drift_counts=dict(drift.most_common(200)),
    )
