"""Shared pieces of the benchmark: measured subprocesses (wall time + peak RSS of the process tree, from /proc),
CPU use of a measured section (CpuMeter), services (replay server, moto S3, a dedicated Postgres database), medians, machine facts."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".venv-bench"
BENCH_PY = BENCH_VENV / "bin" / "python"
LOOPBACK = "127.0.0.1"
RAWG_KEY = "bench-key-not-a-secret"
RESULT_PREFIX = "BENCH_RESULT "


@dataclass
class Measured:
    """One measured child process: its own JSON result plus wall time and peak tree RSS."""

    result: dict[str, Any]
    wall_seconds: float
    peak_rss_bytes: int
    returncode: int
    stderr_tail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                out += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return out


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(pid: int) -> int:
    """Summed RSS of a process and all its descendants, from /proc (Linux; no psutil needed)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss(current)
        stack += _children(current)
    return total


_HZ = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, elapsed) CPU seconds of the whole machine since boot, summed over its cores (/proc/stat).
    Idle and iowait are not busy; guest time is already inside user time."""
    with open("/proc/stat") as handle:
        ticks = [int(x) for x in handle.readline().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _HZ, sum(ticks) / _HZ


def cores_busy(before: tuple[float, float], after: tuple[float, float]) -> float:
    """Average number of busy cores between two machine_cpu() readings."""
    elapsed = (after[1] - before[1]) / (os.cpu_count() or 1)
    return (after[0] - before[0]) / elapsed if elapsed > 0 else 0.0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _HZ  # utime + stime
    except (OSError, IndexError, ValueError):
        return 0.0


class PostgresCpu:
    """CPU seconds used by every process named `postgres` on the machine (the benchmark's server:
    backends, WAL writer, checkpointer; any other PostgreSQL running would be counted too) while
    polled: per pid the last reading less the first. A backend that exits between two polls loses
    at most one poll interval of its time."""

    def __init__(self) -> None:
        self._names: dict[int, bool] = {}
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self.poll(first=True)

    def _is_postgres(self, pid: int) -> bool:
        if pid not in self._names:
            try:
                with open(f"/proc/{pid}/comm") as handle:
                    self._names[pid] = handle.read().strip() == "postgres"
            except OSError:
                self._names[pid] = False
        return self._names[pid]

    def poll(self, first: bool = False) -> None:
        for entry in os.listdir("/proc"):
            if entry.isdigit() and self._is_postgres(pid := int(entry)):
                seconds = _cpu_seconds(pid)
                # A backend born after the first poll started from zero.
                self._first.setdefault(pid, seconds if first else 0.0)
                self._last[pid] = max(self._last.get(pid, 0.0), seconds)

    @property
    def seconds(self) -> float:
        return sum(self._last[pid] - self._first[pid] for pid in self._last)


def _own_cpu() -> float:
    """This process's CPU seconds plus those of its waited-for children (e.g. the check workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CpuMeter:
    """Where the CPU went during a measured section, taken by the measured process itself:

    - `machine_cores_busy`: average busy cores of the whole machine (/proc/stat);
    - `own_cores`: this process and its waited-for children (the system under test);
    - `postgres_cores`: the local PostgreSQL server's processes (polled every 0.25 s in a thread);
    - the rest of the machine's busy time is the servers (replay, moto), the harness and the OS.
    Figures are cores (CPU seconds per wall second), so they compare across sections of any length.
    The polling itself counts as own: ~1 ms of CPU per poll with ~140 processes (0.004 cores)."""

    def __init__(self, poll_seconds: float = 0.25) -> None:
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._postgres = PostgresCpu()
        self._machine, self._own, self._started = machine_cpu(), _own_cpu(), time.perf_counter()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self._postgres.poll()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._postgres.poll()
        wall = time.perf_counter() - self._started
        return {
            "seconds": round(wall, 3),
            "machine_cores_busy": round(cores_busy(self._machine, machine_cpu()), 3),
            "own_cores": round((_own_cpu() - self._own) / wall, 3) if wall > 0 else 0.0,
            "postgres_cores": round(self._postgres.seconds / wall, 3) if wall > 0 else 0.0,
        }


def run_measured(
    argv: list[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    poll_seconds: float = 0.05,
    cwd: Path = ROOT,
) -> Measured:
    """Run `argv`, polling the RSS of its process tree; its result is the last `BENCH_RESULT {...}`
    line on stdout. Peak RSS is the max over polls of the summed tree RSS (children included)."""
    full_env = {**os.environ, **(env or {})}
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, cwd=cwd, text=True
    )
    peak = 0
    stop = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            stop.wait(poll_seconds)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - started
    stop.set()
    poller.join()
    result: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    if proc.returncode != 0 or not result:
        raise RuntimeError(
            f"{' '.join(argv[:4])}... failed with code {proc.returncode}:\n{err[-4000:]}\n{out[-2000:]}"
        )
    return Measured(result, wall, peak, proc.returncode, err[-2000:])


_STATUS_FIELDS = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")


def process_memory() -> dict[str, float]:
    """This process's peak and current RSS, split into anonymous (heap, arenas) and file-backed
    (mapped code of the shared libraries) pages, in MiB, from /proc/self/status."""
    out: dict[str, float] = {}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name in _STATUS_FIELDS:
                    out[name] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    return out


def reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux: writing 5 to clear_refs), so the next phase's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def emit(result: dict[str, Any]) -> None:
    """A child's way to hand its result to run_measured."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def ours_command(
    replay: Replay, s3_url: str, pg_url: str, records: int, bucket_prefix: str = "bench"
) -> list[str]:
    """The argv of one run of our ingestion (`bench.ours`) against the replay server, an S3 endpoint and
    a database, in a fresh bucket; callers append their own flags (rate, patches, profiling)."""
    return [
        sys.executable,
        "-m",
        "bench.ours",
        "--rawg-url",
        replay.rawg,
        "--s3-url",
        s3_url,
        "--pg-url",
        pg_url,
        "--bucket",
        f"{bucket_prefix}-{uuid.uuid4().hex[:12]}",
        "--expect",
        str(records),
    ]


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }


# --- services -------------------------------------------------------------------------------------


class Replay:
    """The replay server in its own process (so its CPU is not charged to the client under test)."""

    def __init__(self, games: int, latency_ms: float = 0.0):
        from gmp_dev.local.stack import free_port, replay_server_argv, wait_for_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            replay_server_argv(
                self.port, RAWG_KEY, "--synthetic-games", str(games), "--latency-ms", str(latency_ms)
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        wait_for_port(self.port, what="replay server", process=self.proc)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.rawg = self.url + "/rawg/api"

    def stats(self) -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(self.url + "/_replay/stats", timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self) -> None:
        import urllib.request

        req = urllib.request.Request(self.url + "/_replay/reset", data=b"{}", method="POST")
        urllib.request.urlopen(req, timeout=10).read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Moto:
    def __init__(self) -> None:
        from gmp_dev.local.stack import free_port, wait_for_port

        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        wait_for_port(self.port, what="moto", process=self.proc)
        self.url = f"http://{LOOPBACK}:{self.port}"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def ensure_database(admin_url: str, name: str) -> str:
    """A dedicated database on the given server (other work on the server is left alone)."""
    from gmp_dev.local.stack import ensure_database as create_if_missing

    return create_if_missing(admin_url, name)


def reset_schemas(pg_url: str, *schemas: str) -> None:
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for schema in schemas:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    conn.close()


def scalar(pg_url: str, query: str) -> Any:
    import psycopg2

    conn = psycopg2.connect(pg_url)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return cur.fetchone()[0]
    finally:
        conn.close()
