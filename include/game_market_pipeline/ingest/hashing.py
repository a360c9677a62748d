"""Content hashes: sha256 of the canonical JSON of a record (sorted keys, no whitespace, UTF-8)."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(record: Any) -> str:
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()
