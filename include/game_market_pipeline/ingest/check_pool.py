"""Record checks of whole pages in worker processes: page bytes in, checked records out.

The extract of a large endpoint is CPU-bound in one interpreter: decoding pages, validating every
record with pydantic, its canonical JSON and its content hash all take the one GIL the page
threads and the Parquet writer share (bench/RESULTS.md, "where the time goes"). A worker process
does those four steps for a page on another core while the main process fetches, writes Parquet
and uploads. What lands is the same, record for record and byte for byte, as the in-process
checks produce (the checks are the same functions; pages keep their order).

Workers pay a start-up (~0.22 s until a first page comes back checked: an interpreter, pydantic,
the record models), so they are used only
for a walk of many pages whose list is planned up front, and only with more than one CPU. A page
goes to a worker only while the workers have room; otherwise its page thread checks it, so the
task's own core keeps working and a slow or dead worker never holds the walk back.

A worker outlives nothing: when the task process dies without closing the pool (SIGKILL, the OOM
killer), its workers notice within a second and exit,
instead of idling forever on a queue nobody will write to (seen in the benchmark: orphans of a
killed task process, re-parented to PID 1, still alive until killed by hand).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game_market_pipeline.ingest.json_codec import decode_json
from game_market_pipeline.ingest.record_selector import select_records
from game_market_pipeline.ingest.validate import CheckedRecord, ValidationStats, check_record

log = logging.getLogger(__name__)

# Below this many planned pages the start-up costs more than the workers save.
MIN_PAGES_FOR_WORKERS = 16
# With auto, one worker per usable CPU up to this many. Not one fewer than the CPUs: the task's own
# process mostly waits (sockets, the GIL, the workers), and page threads take the pages the workers
# have no room for, so on 2 CPUs two workers beat one (bench/RESULTS.md: 20k records, one run each,
# extract 4.9 s in-process, 3.8 s with one worker, 3.3 s with two, 3.5 s with three). Past two the task's
# process (HTTP, Parquet, S3) is the bound.
MAX_AUTO_WORKERS = 2
# How often a worker checks that the task process is still there: the longest an orphan lives.
PARENT_POLL_SECONDS = 1.0
# Pages queued per worker before a page thread checks its page itself: one being checked and one
# waiting keeps a worker busy; more would leave the task's own core idle while the workers lag.
PAGES_QUEUED_PER_WORKER = 2


def usable_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """CPUs this process may use: its affinity, capped by a cgroup v2 CPU quota (a Kubernetes
    pod's limit, which the affinity mask does not show)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = (cgroup_root / "cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass  # no cgroup v2 quota readable: the affinity is the limit
    return max(1, cpus)


def worker_count(setting: int | None, planned_pages: int) -> int:
    """Check workers for a walk of `planned_pages`: the endpoint's `check_processes`, else (auto)
    one per usable CPU, at most MAX_AUTO_WORKERS, none on a single CPU (nothing to run them on)
    or for walks too short to pay their start-up."""
    if setting is not None:
        return setting
    cpus = usable_cpus()
    if planned_pages < MIN_PAGES_FOR_WORKERS or cpus < 2:
        return 0
    return min(MAX_AUTO_WORKERS, cpus)


@dataclass(frozen=True)
class CheckedPage:
    records: list[CheckedRecord]
    stats: dict[str, Any]  # this page's counts, in the form ValidationStats.merge() takes


class PageCheckPool:
    """Worker processes that check pages of one endpoint (one record model, one primary key)."""

    def __init__(self, processes: int, record_model: str, primary_key: str, record_selector: str) -> None:
        self.processes = processes
        self._args = (record_model, primary_key, record_selector)
        self.broken = False
        self.pages_in_workers = 0
        self.pages_in_process = 0
        self._queued = 0
        self._queue_lock = threading.Lock()
        self._model: Any = None
        # spawn, not fork: the parent runs HTTP and S3 threads whose locks a fork would copy held.
        self._executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(record_model, os.getpid()),
        )

    def check(self, content: bytes, where: str) -> CheckedPage | None:
        """The page's records checked, or None when the body is not UTF-8 JSON (the caller refetches
        it the in-process way, which decodes other charsets and retries truncated bodies)."""
        _, primary_key, selector = self._args
        with self._queue_lock:
            # The workers take a page while they have room; otherwise this thread checks it, so the
            # task's own core works too and a slow worker never holds the walk back.
            to_worker = not self.broken and self._queued < self.processes * PAGES_QUEUED_PER_WORKER
            if to_worker:
                self._queued += 1
        result = None
        if to_worker:
            try:
                result = self._executor.submit(_check_page, content, selector, primary_key, where).result()
            except BrokenProcessPool as exc:
                # A worker died (OOM-killed, or could not start: e.g. a script without a __main__
                # guard under spawn). The walk goes on with the checks in this process.
                if not self.broken:
                    log.warning("check workers stopped (%s); checking the remaining pages in-process", exc)
                self.broken = True
                to_worker = False
            finally:
                with self._queue_lock:
                    self._queued -= 1
                    self.pages_in_workers += to_worker
        if not to_worker:
            result = check_page(self._local_model(), content, selector, primary_key, where)
            with self._queue_lock:
                self.pages_in_process += 1
        if result is None:
            return None
        rows, stats = result
        return CheckedPage([CheckedRecord(*row) for row in rows], stats)

    def _local_model(self) -> Any:
        if self._model is None:
            from game_market_pipeline.records.registry import record_model

            self._model = record_model(self._args[0])
        return self._model

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        log.info(
            "checked %s pages in worker processes, %s in the task's process",
            self.pages_in_workers,
            self.pages_in_process,
        )

    def __enter__(self) -> PageCheckPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LazyCheckPool:
    """A PageCheckPool started only once a walk turns out to be worth it (its pages are planned
    and there are enough of them); closed with the extract that owns it."""

    def __init__(
        self, setting: int | None, record_model: str, primary_key: str, record_selector: str
    ) -> None:
        self.setting = setting
        self._args = (record_model, primary_key, record_selector)
        self._pool: PageCheckPool | None = None

    def for_pages(self, planned_pages: int) -> PageCheckPool | None:
        if self._pool is None:
            processes = worker_count(self.setting, planned_pages)
            if processes == 0:
                return None
            log.info("checking %s planned pages in %s worker process(es)", planned_pages, processes)
            self._pool = PageCheckPool(processes, *self._args)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> LazyCheckPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- in the worker process ------------------------------------------------------------------

_model: Any = None


def _init_worker(record_model_name: str, parent_pid: int) -> None:
    global _model
    # First, so a parent that dies while this worker imports is noticed too.
    threading.Thread(target=_exit_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True).start()
    from game_market_pipeline.records.registry import record_model

    _model = record_model(record_model_name)


def _exit_when_orphaned(parent_pid: int, poll_seconds: float = PARENT_POLL_SECONDS) -> None:
    """Exit this worker once `parent_pid` is no longer its parent (it died; the worker was re-parented).

    A worker blocks reading the pool's call queue, whose write end it holds itself (spawn passes both
    ends), so the parent's death never reaches it as end-of-file. PR_SET_PDEATHSIG is no substitute:
    it fires when the parent *thread* that started the worker ends, and workers start from page
    threads. os._exit, not sys.exit: the pool's own threads must not run their shutdown here.
    """
    while os.getppid() == parent_pid:
        time.sleep(poll_seconds)
    os._exit(1)


def _check_page(
    content: bytes, selector: str, primary_key: str, where: str
) -> tuple[list[tuple[Any, ...]], dict[str, Any]] | None:
    return check_page(_model, content, selector, primary_key, where)


def check_page(
    model: Any, content: bytes, selector: str, primary_key: str, where: str
) -> tuple[list[tuple[Any, ...]], dict[str, Any]] | None:
    """Decode a page, select its records and check each: (rows, stats), None when not UTF-8 JSON."""
    try:
        body = decode_json(content)
    except ValueError:
        return None
    stats = ValidationStats()
    # Tuples, not dataclasses: a page's 40 records pickle back in one flat list.
    rows = [
        (c.key, c.content_hash, c.payload, c.errors)
        for c in (
            check_record(raw, model, primary_key, stats) for raw in select_records(body, selector, where)
        )
    ]
    return rows, {
        "records": stats.records,
        "invalid": stats.invalid,
        "error_counts": dict(stats.error_counts),
        "drift_counts": dict(stats.drift_counts),
    }
