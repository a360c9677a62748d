"""Local experiments only (never applied unless asked with --patch): candidate fixes for hot spots
found by the profile, applied in the benchmark's child process to measure their effect before they
are made in the package.

None is pending. The earlier ones landed and are gone from here: `rowstream` (the quadratic COPY
feed; the load now renders each batch with Arrow's CSV writer) and `smallbatch` (500-row load
batches; parts are now written in 500-row row groups). bench/RESULTS.md keeps their history.
"""

from __future__ import annotations

from collections.abc import Callable

PATCHES: dict[str, Callable[[], None]] = {}


def apply(names: list[str]) -> None:
    for name in names:
        if name in PATCHES:
            PATCHES[name]()
        elif name:
            raise SystemExit(f"unknown patch {name!r} (known: {', '.join(PATCHES) or 'none'})")
