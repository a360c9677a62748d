"""Keep a task's resident memory near what it actually holds: freed memory goes back to the OS.

Measured with the benchmark (bench/history/2026-12-01-afternoon.md): after an extract, Arrow's
default pool (mimalloc) still kept ~37 MiB of pages while holding 0 bytes; and the load's resident set grew by
~100 MiB more than Python and Arrow held. glibc raises its mmap threshold to the size of every
large block freed (its "dynamic" threshold), so later large blocks come from the heap, where
fragmentation keeps them resident (tests/unit/test_memory.py shows it); the load allocates many
(1 MiB S3 chunks and COPY reads, a row group's ~4 MB of CSV). Fixing the threshold removed the
growth: the load's peak at 20k records went from 248-280 to 185-190 MiB (as committed).

So Arrow uses its system pool (glibc malloc, which hands large freed blocks back), and the load
also fixes glibc's mmap threshold, so every large block is unmapped when freed. The extract does
not: it was measured slower with it (extract 7.0-7.7 s against 6.0-6.7 s at 20k records), likely
the page faults of mapping each ~340 KB page body afresh.
Both are process-wide settings; a task process runs one task. In a one-CPU pod's shape (issue 22,
bench/history/2026-12-04-one-cpu-before-after.md) the threshold saved 12 % of the peak in one A/B and
17-18 % (the load's peak, +33-46 MiB without it) side by side at 100k and 1M records: on the 15 %
bar, so it stays. The Arrow pool saved 18 % of the peak.
"""

from __future__ import annotations

import ctypes
import os

# Read by Arrow's C++ library when it first allocates, so it must be set before pyarrow is used
# (`pyarrow.set_memory_pool` would not reach the Parquet reader and writer, which allocate from the
# C++ default pool). An operator's own setting wins.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"

# glibc's mallopt parameter number for the mmap threshold (malloc.h: M_MMAP_THRESHOLD = -3).
_M_MMAP_THRESHOLD = -3
# glibc's default initial threshold; setting it explicitly turns the dynamic raise off.
MMAP_THRESHOLD_BYTES = 128 * 1024


def prefer_system_arrow_pool() -> None:
    """Arrow allocations through glibc malloc instead of mimalloc, which keeps freed pages."""
    os.environ.setdefault(ARROW_POOL_VARIABLE, "system")


def map_large_blocks(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold, so blocks above it are unmapped when freed. False where the C
    library is not glibc (musl, macOS): nothing is changed there."""
    try:
        # The process's own symbols: libc is already loaded, so nothing is searched for or opened.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
