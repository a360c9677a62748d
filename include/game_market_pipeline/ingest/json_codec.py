"""JSON on the hot path of ingestion: orjson where its result is provably the same as the standard
library's, the standard library otherwise.

Both functions are exact replacements, not approximations: the content hash of every record ever
landed is sha256 of `json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`,
and `json.loads` semantics (integers of any size stay integers). orjson is 5-10x faster on RAWG-sized
pages and records (bench/RESULTS.md) but differs in two corners, guarded below:

- decoding: integers beyond 64 bits become floats in orjson. A page with a run of 20+ digits
  anywhere (even inside a string) is decoded by the standard library instead.
- encoding: floats with 1e-9 <= |x| < 1e-4 are written `0.00001` / `1e-9` by orjson and `1e-05` /
  `1e-09` by Python. Output containing `0.0000` or a one-digit negative exponent anywhere (even
  inside a string) is re-encoded by the standard library. Every other float, every string escape and
  the key order were checked equal (tests/unit/test_json_codec.py compares both on the recorded
  corpus, on random documents and on every float magnitude).
NaN and Infinity are not JSON: both decoders here refuse them, so they never reach the encoder.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# Every digit mapped to "0", then a substring test: ~0.25 ms per 400 KB page where the regex
# [0-9]{20} took ~4 ms (more than decoding the page).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS = b"0" * 20
_ONE_DIGIT_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9](?![0-9])")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(content: bytes) -> Any:
    """`json.loads(content)` for UTF-8 JSON, faster; raises ValueError on malformed input."""
    if _TWENTY_DIGITS in content.translate(_DIGITS_AS_ZERO):
        return json.loads(content, parse_constant=_refuse_constant)
    return orjson.loads(content)


def decode_json_text(text: str) -> Any:
    """`json.loads(text)` for JSON already decoded to str, refusing NaN and Infinity like `decode_json`."""
    return json.loads(text, parse_constant=_refuse_constant)


def json_body_text(content: bytes, declared: str | None, as_declared: Callable[[], str]) -> str:
    """The text of a JSON body that is not valid UTF-8 JSON as it stands: a body declared UTF-8
    (requests' default for application/json) keeps its invalid bytes as lone surrogates
    (`surrogateescape`), where requests' own text would put U+FFFD in their place unnoticed; a body
    declared in another charset, or in none, is `as_declared()` (requests' decoding)."""
    try:
        utf8 = declared is not None and codecs.lookup(declared).name == "utf-8"
    except LookupError:  # a charset Python does not know: requests falls back on its own
        utf8 = False
    return content.decode("utf-8", "surrogateescape") if utf8 else as_declared()


def canonical_json_bytes(record: Any) -> bytes:
    """UTF-8 of `json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)`."""
    try:
        encoded = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        # Integers beyond 64 bits, non-string keys: only the standard library's form is canonical.
        return _stdlib_canonical(record).encode("utf-8")
    # Substring tests first: a regex alternation without a literal prefix scans at ~45 us per record.
    if b"0.0000" in encoded or (b"e-" in encoded and _ONE_DIGIT_NEGATIVE_EXPONENT.search(encoded)):
        return _stdlib_canonical(record).encode("utf-8")
    return encoded


def _stdlib_canonical(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
