"""The surrogate_key macro (dbt/macros/surrogate_key.sql) in Python, to state expected keys."""

from __future__ import annotations

import hashlib


def md5_key(*parts: object) -> str:
    """md5 of the parts as text joined by '|', a null part as '<gmp-null>'."""
    return hashlib.md5("|".join("<gmp-null>" if p is None else str(p) for p in parts).encode()).hexdigest()
