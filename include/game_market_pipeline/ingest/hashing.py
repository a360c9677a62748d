"""Content hashes: sha256 of the canonical JSON of a record (sorted keys, no whitespace, UTF-8)."""

from __future__ import annotations

import hashlib
from typing import Any

from game_market_pipeline.ingest.json_codec import canonical_json_bytes


def canonical_json(record: Any) -> str:
    return canonical_json_bytes(record).decode("utf-8")


# hashlib releases the GIL while hashing more than 2047 bytes at once. With page threads decoding
# JSON, taking it back cost ~0.2 ms per 8 KB record, twenty times the hash itself (bench/RESULTS.md);
# slices under that size are hashed without letting go of it. The digest is the same.
_GIL_KEPT_BELOW = 2048


def hash_canonical(canonical: str | bytes) -> str:
    """The content hash of a record already serialised with `canonical_json` (str or its UTF-8 bytes)."""
    data = canonical.encode("utf-8") if isinstance(canonical, str) else canonical
    digest = hashlib.sha256()
    view = memoryview(data)
    for start in range(0, len(data), _GIL_KEPT_BELOW - 1):
        digest.update(view[start : start + _GIL_KEPT_BELOW - 1])
    return digest.hexdigest()


def content_hash(record: Any) -> str:
    return hash_canonical(canonical_json_bytes(record))
