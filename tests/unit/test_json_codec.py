"""The fast JSON codec must be byte-identical to the standard library's canonical form: every
content hash ever landed depends on it."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from game_market_pipeline.ingest.json_codec import canonical_json_bytes, decode_json, decode_json_text

RECORDINGS = Path(__file__).resolve().parents[2] / "dev" / "gmp_dev" / "replay" / "recordings"


def stdlib_canonical(value) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


@pytest.mark.parametrize("mantissa", ["1", "1.2345678901234567", "9.99", "5", "2.5001"])
def test_every_float_magnitude_encodes_like_the_standard_library(mantissa):
    for exponent in range(-320, 308):
        value = float(f"{mantissa}e{exponent}")
        for signed in (value, -value):
            assert canonical_json_bytes(signed) == stdlib_canonical(signed), signed
            assert canonical_json_bytes({"price": signed}) == stdlib_canonical({"price": signed}), signed


def _random_document(rng: random.Random, depth: int = 0):
    alphabet = [chr(c) for c in range(0, 0x80)] + list("éß€😀\u2028\u2029\ufeff中文\x7f")
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**63), 2**63 - 1)
    if kind == 2:
        return rng.choice([rng.uniform(-1e6, 1e6), rng.random() * 10 ** rng.randint(-12, 20), 0.0, -0.0])
    if kind in (3, 4):
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
    if kind == 5:
        return [_random_document(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {
        "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))): _random_document(rng, depth + 1)
        for _ in range(rng.randint(0, 6))
    }


def test_random_documents_round_trip_and_encode_identically():
    rng = random.Random(20261122)
    for _ in range(3000):
        document = _random_document(rng)
        expected = stdlib_canonical(document)
        assert canonical_json_bytes(document) == expected
        assert decode_json(expected) == json.loads(expected)


def test_recorded_payloads_decode_and_encode_like_the_standard_library():
    files = sorted(RECORDINGS.rglob("*.json"))
    assert len(files) > 50
    for path in files:
        content = path.read_bytes()
        assert decode_json(content) == json.loads(content), path
        assert canonical_json_bytes(json.loads(content)) == stdlib_canonical(json.loads(content)), path


def test_integers_beyond_64_bits_stay_exact_integers():
    big = 2**70 + 1
    assert decode_json(f'{{"id": {big}}}'.encode()) == {"id": big}
    assert canonical_json_bytes({"id": big}) == f'{{"id":{big}}}'.encode()


@pytest.mark.parametrize("text", ["[NaN]", '{"a": Infinity}', "[-Infinity]", '{"a": 1', ""])
def test_non_json_is_refused_by_both_decoders(text):
    with pytest.raises(ValueError):
        decode_json(text.encode())
    with pytest.raises(ValueError):
        decode_json_text(text)
