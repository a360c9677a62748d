"""Fault injection and request statistics of the replay server (thread-safe, in memory).

A fault is armed with `POST /_replay/faults` (or `ReplayServer.add_fault`):

    {"path": "<regex searched in the request path>", "kind": "...", "times": 1,
     "retry_after": 2 (429 only), "delay": 5.0 (timeout only), "field": "x" (unknown_field only)}

Kinds: `429` (Retry-After header), `500`, `401`, `timeout` (sleep `delay` s, then answer
normally: longer than the client's timeout, the client sees a timeout), `malformed` (200 with a
truncated JSON body), `wrong_type` (one record's `id` becomes an object in an otherwise valid
page), `unknown_field` (a new top-level field in every record), and for the input guards
(docs/RELIABILITY-INPUT.md):

- hostile text in one record's `field` (default `name`), the rest of the page intact: `nul_char`
  (a `\\u0000` escape), `lone_surrogate` (a `\\ud800` escape), `invalid_utf8` (a raw 0xFF byte);
- `echo_key`: every record's `field` becomes an image URL carrying the caller's key (`?key=`);
- pagination gone wrong, on envelopes with a `next` link: `next_loop` (`next` is the request's own
  URL: the same page again), `next_same_page` (`next` is a new URL, `replay_loop=<n+1>`, that
  serves the same page again), `short_read` (`next` is null while `count` still promises more).

`times` is how many matching
requests the fault hits (default 1; 0 or a negative number = until reset). The oldest armed fault
whose regex matches is used first.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any
from urllib.parse import urlencode

FAULT_KINDS = (
    "429",
    "500",
    "401",
    "timeout",
    "malformed",
    "wrong_type",
    "unknown_field",
    "nul_char",
    "lone_surrogate",
    "invalid_utf8",
    "echo_key",
    "next_loop",
    "next_same_page",
    "short_read",
)
DEFAULT_UNKNOWN_FIELD = "replay_unknown_field"
DEFAULT_HOSTILE_FIELD = "name"
# What each hostile-text fault appends to the field, as it appears in the JSON body's bytes.
HOSTILE_TEXT = {"nul_char": b"\\u0000", "lone_surrogate": b"\\ud800", "invalid_utf8": b"\xff"}
_PLACEHOLDER = "__replay_hostile_text__"


@dataclass
class Fault:
    path: str
    kind: str
    times: int = 1
    retry_after: float | None = None
    delay: float = 30.0
    field: str | None = None  # unknown_field: DEFAULT_UNKNOWN_FIELD; hostile text: DEFAULT_HOSTILE_FIELD
    pattern: re.Pattern[str] = dataclass_field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(FAULT_KINDS)}")
        self.pattern = re.compile(self.path)
        self.times = int(self.times)
        if self.retry_after is not None:
            self.retry_after = float(self.retry_after)
        self.delay = float(self.delay)

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Fault:
        unknown = set(spec) - {"path", "kind", "times", "retry_after", "delay", "field"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        if "path" not in spec or "kind" not in spec:
            raise ValueError("a fault needs `path` (regex) and `kind`")
        values = {k: v for k, v in spec.items() if v is not None}
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "times": self.times,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "field": self.field,
        }


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._requests = 0
        self._by_path: Counter[str] = Counter()
        self._by_status: Counter[str] = Counter()
        self._faults_applied: Counter[str] = Counter()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The fault this request gets, if any (consumes one of its `times`)."""
        with self._lock:
            for fault in self._faults:
                if fault.pattern.search(path):
                    if fault.times > 0:
                        fault.times -= 1
                        if fault.times == 0:
                            self._faults.remove(fault)
                    self._faults_applied[fault.kind] += 1
                    return fault
        return None

    def count_request(self, path: str) -> None:
        with self._lock:
            self._requests += 1
            self._by_path[path] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self._by_status[str(status)] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "by_path": dict(self._by_path),
                "by_status": dict(self._by_status),
                "faults_applied": dict(self._faults_applied),
                "faults_armed": [f.describe() for f in self._faults],
            }

    def reset(self) -> None:
        with self._lock:
            self._faults.clear()
            self._requests = 0
            self._by_path.clear()
            self._by_status.clear()
            self._faults_applied.clear()


# --- body corruption --------------------------------------------------------------------------


def _records_of(payload: Any) -> list[dict[str, Any]]:
    """The records of any of the four APIs' payloads: envelope list, bare list, or one detail."""
    if isinstance(payload, list):
        return [r for r in payload if isinstance(r, dict)]
    if isinstance(payload, dict):
        for key in ("results", "data"):
            if key in payload:
                inner = payload[key]
                if isinstance(inner, list):
                    return [r for r in inner if isinstance(r, dict)]
                if isinstance(inner, dict):
                    return [inner]
        return [payload]
    return []


def malformed(body: bytes) -> bytes:
    """A JSON body cut in the middle (what a dropped connection behind a proxy looks like)."""
    cut = max(1, len(body) // 2)
    truncated = body[:cut]
    try:
        json.loads(truncated)
    except ValueError:
        return truncated
    return b'{"results": [{"id": 1, "name": '


def wrong_type(body: bytes) -> bytes:
    """One record's identifying field gets the wrong type (an object); the page stays valid JSON."""
    payload = json.loads(body)
    records = _records_of(payload)
    if records:
        target = records[len(records) // 2]
        key = "id" if "id" in target else next(iter(target), "id")
        target[key] = {"replay_wrong_type": target.get(key)}
    return json.dumps(payload, ensure_ascii=False).encode()


def unknown_field(body: bytes, name: str = DEFAULT_UNKNOWN_FIELD) -> bytes:
    """Every record gains a new top-level field (API schema drift)."""
    payload = json.loads(body)
    for record in _records_of(payload):
        record[name] = {"added_by": "replay fault injection"}
    return json.dumps(payload, ensure_ascii=False).encode()


def hostile_text(body: bytes, kind: str, field: str | None = None) -> bytes:
    """One record (the middle one) gets text the warehouse cannot store appended to `field`; the
    body stays JSON (NUL, lone surrogate) or becomes JSON with one invalid UTF-8 byte."""
    payload = json.loads(body)
    records = _records_of(payload)
    if not records:
        return body
    name = field or DEFAULT_HOSTILE_FIELD
    target = records[len(records) // 2]
    target[name] = f"{target.get(name) or ''}{_PLACEHOLDER}"
    encoded = json.dumps(payload, ensure_ascii=False).encode()
    return encoded.replace(_PLACEHOLDER.encode(), HOSTILE_TEXT[kind])


def echo_key(body: bytes, key: str, field: str | None = None) -> bytes:
    """Every record's `field` becomes an image URL carrying the caller's key (an API that echoes it)."""
    payload = json.loads(body)
    name = field or "background_image"
    for record in _records_of(payload):
        record[name] = f"https://media.replay.invalid/media/{name}.jpg?key={key}"
    return json.dumps(payload, ensure_ascii=False).encode()


def relink(body: bytes, kind: str, own_url: str, query: list[tuple[str, str]]) -> bytes:
    """The `next` link of an envelope rewritten by a pagination fault (see the module docstring)."""
    payload = json.loads(body)
    if not isinstance(payload, dict) or "next" not in payload:
        return body
    if kind == "short_read":
        payload["next"] = None
    elif kind == "next_loop":
        payload["next"] = f"{own_url}?{urlencode(query)}"
    else:  # next_same_page
        loop = int(dict(query).get("replay_loop") or 0) + 1
        kept = [(k, v) for k, v in query if k != "replay_loop"]
        payload["next"] = f"{own_url}?{urlencode([*kept, ('replay_loop', str(loop))])}"
    return json.dumps(payload, ensure_ascii=False).encode()
