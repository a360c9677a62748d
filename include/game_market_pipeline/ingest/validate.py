"""Validate records against their endpoint's pydantic model; collect quarantine and drift facts."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from game_market_pipeline.ingest.hashing import hash_canonical
from game_market_pipeline.ingest.json_codec import canonical_json_bytes
from game_market_pipeline.ingest.landing_contract import ValidationCounts
from game_market_pipeline.ingest.redaction import Redactor
from game_market_pipeline.ingest.storable import storable_copy, unstorable_text
from game_market_pipeline.records.base import ApiRecord
from game_market_pipeline.records.validation_twin import forbid_extra_validator

MAX_DRIFT_FIELDS = 200


@dataclass(frozen=True)
class CheckedRecord:
    key: str | None
    content_hash: str
    # Canonical JSON (UTF-8) of the record exactly as the API sent it. Kept as bytes: a str with one
    # non-Latin-1 character would hold every character in 4 bytes, a part's worth of them in memory.
    payload: bytes
    errors: list[dict[str, Any]] | None  # None when valid

    @property
    def payload_json(self) -> str:
        return self.payload.decode("utf-8")

    @property
    def valid(self) -> bool:
        return self.errors is None


@dataclass
class ValidationStats:
    records: int = 0
    invalid: int = 0
    error_counts: Counter = field(default_factory=Counter)
    drift_counts: Counter = field(default_factory=Counter)

    def counts(self) -> ValidationCounts:
        """As a checkpoint keeps them (the landing contract)."""
        return ValidationCounts(
            records=self.records,
            invalid=self.invalid,
            error_counts=dict(self.error_counts.most_common(50)),
            drift_counts=dict(self.drift_counts.most_common(MAX_DRIFT_FIELDS)),
        )

    @property
    def most_common_error(self) -> str | None:
        top = self.error_counts.most_common(1)
        return f"{top[0][0]} ({top[0][1]}x)" if top else None


def _error_summary(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ())) or "<record>"
    return f"{loc}: {error.get('msg')}"


def check_record(raw: Any, model: type[ApiRecord], primary_key: str, stats: ValidationStats) -> CheckedRecord:
    stats.records += 1
    try:
        payload_bytes = canonical_json_bytes(raw)
    except UnicodeEncodeError:  # a lone surrogate: the record has no UTF-8 form
        unstorable = _quarantine_unstorable(raw, primary_key, stats, None)
        if unstorable is None:
            raise
        return unstorable
    # NUL is escaped in JSON as \u0000; the substring test keeps the walk off the hot path (an
    # escaped backslash followed by "u0000" matches it too, and the walk then finds nothing).
    # rfind, not `in`: its skips key on the needle's backslash, rare in JSON, not its last "0"
    # (~5 vs ~8 us on an 8 KB RAWG game).
    if payload_bytes.rfind(b"\\u0000") != -1:
        unstorable = _quarantine_unstorable(raw, primary_key, stats, payload_bytes)
        if unstorable is not None:
            return unstorable
    digest = hash_canonical(payload_bytes)  # == content_hash(raw) without serialising twice
    key = raw.get(primary_key) if isinstance(raw, dict) else None
    try:
        # Records almost never carry fields the model does not know: validating with extras
        # forbidden proves that in pydantic-core, with no Python walk over ~50 nested models, and
        # the model's instance-free twin does it without building them either.
        twin = forbid_extra_validator(model)
        if twin is None:
            model.model_validate(raw, extra="forbid")
        else:
            twin.validate_python(raw)
        drift: set[str] = set()
    except ValidationError:
        # Extra fields (schema drift) or a real error: the model as declared decides which.
        try:
            drift = model.model_validate(raw).unknown_fields()
        except ValidationError as err:
            errors = json.loads(err.json(include_url=False, include_input=False))
            stats.invalid += 1
            for e in errors:
                stats.error_counts[_error_summary(e)] += 1
            return CheckedRecord(None if key is None else str(key), digest, payload_bytes, errors)
    if key is None or isinstance(key, (dict, list)):
        errors = [
            {
                "type": "missing_primary_key",
                "loc": [primary_key],
                "msg": f"primary key '{primary_key}' is missing or not a scalar",
            }
        ]
        stats.invalid += 1
        stats.error_counts[_error_summary(errors[0])] += 1
        return CheckedRecord(None, digest, payload_bytes, errors)
    for path in drift:
        stats.drift_counts[path] += 1
    return CheckedRecord(str(key), digest, payload_bytes, None)


def _quarantine_unstorable(
    raw: Any, primary_key: str, stats: ValidationStats, payload_bytes: bytes | None
) -> CheckedRecord | None:
    """The record quarantined for text the warehouse cannot store (ingest/storable.py), or None if
    it has none. Its hash is of the record as sent; its stored copy has U+FFFD in those places."""
    errors = unstorable_text(raw)
    if not errors:
        return None
    if payload_bytes is None:
        original = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        payload_bytes = original.encode("utf-8", "surrogatepass")
    digest = hash_canonical(payload_bytes)
    key = raw.get(primary_key) if isinstance(raw, dict) else None
    stats.invalid += 1
    for error in errors:
        stats.error_counts[_error_summary(error)] += 1
    stored_key = None if key is None or isinstance(key, (dict, list)) else storable_copy(str(key))
    return CheckedRecord(stored_key, digest, canonical_json_bytes(storable_copy(raw)), errors)


def redact_secrets(record: CheckedRecord, redactor: Redactor) -> CheckedRecord:
    """The record with every form of the configured secret in its payload replaced (an API that
    echoes the caller's key inside its data, e.g. an image URL with `?key=`), its hash recomputed
    over what is stored. The same record when it holds no secret (the usual case: one substring
    search per form)."""
    payload = redactor.payload(record.payload)
    if payload is record.payload:
        return record
    return CheckedRecord(record.key, hash_canonical(payload), payload, record.errors)
