"""Local experiments only (never applied unless asked with --patch): candidate fixes for hot spots
found by the profile, applied in the benchmark's child process to measure their effect.

`rowstream`: staging._RowStream.read slices `self._buffer[size:]` on every read; psycopg2's
copy_expert reads 8 KiB at a time, so each read copies the whole rest of a ~42 MB batch (5,000
RAWG games as CSV): quadratic, ~90 s per 5,000-row batch. The fix keeps a bytearray and deletes
the consumed prefix (CPython advances the start of a bytearray in O(1) for `del b[:n]`).

`smallbatch`: the load reads Parquet parts back in batches of 500 rows instead of 5,000, so the
rows, their CSV text and its bytes held at once are a tenth (peak RSS of the load).
"""

from __future__ import annotations

import csv
import io


def _read(self, size: int = -1) -> bytes:
    buffer = self.__dict__.setdefault("_pending", bytearray())
    while size < 0 or len(buffer) < size:
        try:
            chunk = next(self._rows)
        except StopIteration:
            break
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(chunk)
        self.count += len(chunk)
        buffer += out.getvalue().encode("utf-8")
    n = len(buffer) if size < 0 else min(size, len(buffer))
    data = bytes(buffer[:n])
    del buffer[:n]
    return data


def apply(names: list[str]) -> None:
    for name in names:
        if name == "rowstream":
            from game_market_pipeline.ingest import staging

            staging._RowStream.read = _read  # type: ignore[method-assign]
        elif name in PATCHES:
            PATCHES[name]()
        elif name:
            raise SystemExit(f"unknown patch {name!r}")


def _small_batches(batch_size: int = 500) -> None:
    from game_market_pipeline.ingest.bronze import BronzeStore

    original = BronzeStore.iter_part_batches

    def iter_part_batches(self, key, columns, batch_size_=batch_size):  # type: ignore[no-untyped-def]
        return original(self, key, columns, batch_size_)

    BronzeStore.iter_part_batches = iter_part_batches  # type: ignore[method-assign]


PATCHES = {"smallbatch": _small_batches}
