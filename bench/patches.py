"""Local experiments only (never applied unless asked with --patch): switches applied in the
benchmark's child process, to measure a change before it is made in the package, or a speed trick
of the package with it switched off (bench/tricks.py).

Every switch replaces names in the loaded modules of the package, so product code carries no
branch for it; one whose trick is gone says so (`TrickAbsent`). The tricks that gained less than
15 % in a one-CPU pod left the package with issue 22, and their switches with them (the check
process pool, GIL-slicing hashes, the partial config parse): the figures are in
bench/history/2026-12-04-one-cpu-before-after.md.
Earlier experiments (`rowstream`, `smallbatch`) landed; bench/history keeps their story.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

PACKAGE = "game_market_pipeline"


class TrickAbsent(SystemExit):
    """The trick a switch turns off is not in the package."""


def _module(name: str) -> Any:
    try:
        return importlib.import_module(f"{PACKAGE}.{name}")
    except ImportError as exc:
        raise TrickAbsent(f"trick absent: module {name} ({exc})") from exc


def _replace_everywhere(original: Any, replacement: Any) -> int:
    """Rebind every loaded package module's name bound to `original` (modules that imported it
    by name hold their own reference)."""
    replaced = 0
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith(PACKAGE):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, replacement)
                replaced += 1
    return replaced


def _swap(module_name: str, attr: str, replacement: Any) -> None:
    module = _module(module_name)
    original = getattr(module, attr, None)
    if original is None:
        raise TrickAbsent(f"trick absent: {module_name}.{attr}")
    _replace_everywhere(original, replacement)


def no_mallopt() -> None:
    """The load leaves glibc's mmap threshold dynamic."""
    _swap("ingest.memory", "map_large_blocks", lambda *args, **kwargs: False)


def no_twin() -> None:
    """Records validated by the pydantic model itself (instances built), not its typed-dict twin."""
    _swap("records.validation_twin", "forbid_extra_validator", lambda model: None)


def no_orjson() -> None:
    """The standard library's json for page decoding and canonical record JSON (no orjson, so no
    byte-pattern guards either)."""

    def decode_json(content: bytes) -> Any:
        return json.loads(content)

    def canonical_json_bytes(record: Any) -> bytes:
        return json.dumps(
            record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")

    _swap("ingest.json_codec", "decode_json", decode_json)
    _swap("ingest.json_codec", "canonical_json_bytes", canonical_json_bytes)


def no_gc_pause() -> None:
    """The collector runs while the YAML document is built."""
    _swap("config.loader", "_gc_paused", contextlib.nullcontext)


PATCHES: dict[str, Callable[[], None]] = {
    "no_mallopt": no_mallopt,
    "no_twin": no_twin,
    "no_orjson": no_orjson,
    "no_gc_pause": no_gc_pause,
}


def apply(names: list[str]) -> None:
    for name in names:
        if name in PATCHES:
            PATCHES[name]()
        elif name:
            raise SystemExit(f"unknown patch {name!r} (known: {', '.join(PATCHES) or 'none'})")
