"""Keep a task's resident memory near what it actually holds: Arrow allocates through glibc malloc
(its system pool), not mimalloc, which kept ~37 MiB of freed pages after an extract.

Measured in a one-CPU pod's shape (bench/history/2026-12-04-one-cpu-before-after.md, 100k RAWG
games): mimalloc's peak RSS was 21 % higher (255 against 210 MiB). A process-wide setting; a task
process runs one task. (glibc's mmap threshold, fixed through `mallopt`, saved 12 % there and left
the package with issue 22.)
"""

from __future__ import annotations

import os

# Read by Arrow's C++ library when it first allocates, so it must be set before pyarrow is used
# (`pyarrow.set_memory_pool` would not reach the Parquet reader and writer, which allocate from the
# C++ default pool). An operator's own setting wins.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def prefer_system_arrow_pool() -> None:
    """Arrow allocations through glibc malloc instead of mimalloc, which keeps freed pages."""
    os.environ.setdefault(ARROW_POOL_VARIABLE, "system")
