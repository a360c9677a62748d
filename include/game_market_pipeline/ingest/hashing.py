"""Content hashes: sha256 of the canonical JSON of a record (sorted keys, no whitespace, UTF-8)."""

from __future__ import annotations

import hashlib
from typing import Any

from game_market_pipeline.ingest.json_codec import canonical_json_bytes


def canonical_json(record: Any) -> str:
    return canonical_json_bytes(record).decode("utf-8")


def hash_canonical(canonical: str | bytes) -> str:
    """The content hash of a record already serialised with `canonical_json` (str or its UTF-8 bytes)."""
    data = canonical.encode("utf-8") if isinstance(canonical, str) else canonical
    return hashlib.sha256(data).hexdigest()


def content_hash(record: Any) -> str:
    return hash_canonical(canonical_json_bytes(record))
