"""Content hashes: sha256 of the canonical JSON of a record (sorted keys, no whitespace, UTF-8)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def hash_canonical(canonical: str) -> str:
    """The content hash of a record already serialised with `canonical_json`."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def content_hash(record: Any) -> str:
    return hash_canonical(canonical_json(record))
