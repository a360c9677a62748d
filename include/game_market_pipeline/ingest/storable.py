"""Text the warehouse cannot store, found at check time so one bad record never blocks a date.

Postgres refuses three things JSON can carry: the NUL character (U+0000, in `text` and `jsonb`
alike), lone surrogates (U+D800-U+DFFF: not Unicode scalar values, no UTF-8 form; `\\ud800` is
valid JSON), and bytes that are not UTF-8 (the HTTP client decodes a UTF-8 body's invalid bytes
to the lone surrogates U+DC80-U+DCFF, Python's `surrogateescape`, so they are found the same way).

The rule: a record with any of them, in a value or a key, is quarantined with one error per place
(`type: unstorable_text`, the field path, which character or byte); the quarantined copy has each
such character replaced by U+FFFD so it can be stored; its content hash is of the record as sent.
The other records of the page land as usual.
"""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE_TYPE = "unstorable_text"
REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MAX_ERRORS = 20  # per record: enough to say where, never a record's worth of errors


def _describe(char: str) -> str:
    code = ord(char)
    if code == 0:
        return "NUL character (U+0000), which Postgres cannot store in text or jsonb"
    if 0xDC80 <= code <= 0xDCFF:
        return (
            f"invalid UTF-8 byte 0x{code - 0xDC00:02X} in the response (or an unpaired \\u{code:04x} "
            "escape); Postgres stores UTF-8 only"
        )
    return f"lone surrogate U+{code:04X} (an unpaired \\u{code:04x} escape): not Unicode, no UTF-8 form"


def unstorable_text(value: Any) -> list[dict[str, Any]]:
    """One error per (place, kind of character) the warehouse cannot store; [] for a storable value."""
    errors: list[dict[str, Any]] = []
    seen: set[tuple[tuple[Any, ...], str]] = set()

    def note(path: tuple[Any, ...], text: str) -> None:
        for match in _UNSTORABLE.finditer(text):
            message = _describe(match.group())
            if (path, message) in seen or len(errors) >= MAX_ERRORS:
                continue
            seen.add((path, message))
            errors.append({"type": UNSTORABLE_TYPE, "loc": [_safe(p) for p in path], "msg": message})

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, str):
            note(path, node)
        elif isinstance(node, dict):
            for key, item in node.items():
                if isinstance(key, str):
                    note((*path, key), key)
                walk(item, (*path, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, (*path, index))

    walk(value, ())
    return errors


def _safe(part: Any) -> Any:
    return _UNSTORABLE.sub(REPLACEMENT, part) if isinstance(part, str) else part


def storable_copy(value: Any) -> Any:
    """`value` with every character the warehouse cannot store replaced by U+FFFD (keys too)."""
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return {storable_copy(k): storable_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable_copy(item) for item in value]
    return value
