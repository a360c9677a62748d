"""The list of records inside a decoded response body, found by the endpoint's `record_selector`.

Apart from the HTTP client so that a check worker (ingest/check_pool.py), which needs only this and
the record checks, does not import requests and tenacity (~9 MiB per worker process).
"""

from __future__ import annotations

from typing import Any

from game_market_pipeline.exceptions import ApiResponseError


def select_records(body: Any, selector: str, where: str) -> list[dict[str, Any]]:
    """The list of records inside a response body: `$` is the body itself, else a dotted path."""
    value = body
    if selector not in ("$", ""):
        for part in selector.split("."):
            if not isinstance(value, dict) or part not in value:
                raise ApiResponseError(f"{where}: response has no '{selector}' (keys: {_keys(value)})")
            value = value[part]
    if value is None:
        return []
    if not isinstance(value, list):
        raise ApiResponseError(f"{where}: '{selector}' is a {type(value).__name__}, expected a list")
    return value


def _keys(value: Any) -> str:
    return ", ".join(sorted(value)[:12]) if isinstance(value, dict) else type(value).__name__
