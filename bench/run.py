"""The benchmark: ingestion throughput and memory against dlt and the machine's limits, latency
with a rate limit, re-run cost, DAG parse time, transform cost. Every system runs in its own
subprocess (wall time and peak RSS of its process tree); each figure is the median of --reps runs.

    python -m bench.run --size 1000000 --reps 3            # what `make bench` runs
    python -m bench.run --size 200 --reps 1 --out /tmp/b.json --no-report   # the smoke test
    python -m bench.run --sections throughput --systems ours,limits --cpus 0   # a 1-CPU pod's shape

Sizes: throughput at SIZE/10 and SIZE (the memory ratio compares them); dlt at --dlt-size
(default the same sizes; capped to keep dlt's slow runs feasible, always with ratios at equal size);
latency at --latency-size (default SIZE/10); transform at --dbt-size (default SIZE).
Results are merged into --out (JSON, one entry per measurement key); their summary is rendered into
bench/RESULTS.md between its generated markers, and with --history-name the full report into
bench/history/<name>.md (bench.report).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import (
    BENCH_PY,
    ROOT,
    Moto,
    Replay,
    ensure_database,
    machine,
    ours_command,
    reset_schemas,
    run_measured,
)

SECTIONS = ("throughput", "latency", "parse", "dbt")
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class Recorder:
    """Results merged into one JSON file. Every write re-reads the file under a lock, so separate
    invocations (e.g. the 1M run apart from the rest) never drop each other's entries."""

    def __init__(self, path: Path, argv: list[str], append: bool = False):
        self.path = path
        self.append = append  # continue a campaign: keep the file's earlier runs of the same keys
        self.fresh: set[str] = set()
        self.command = {
            "command": "python -m bench.run " + shlex.join(argv),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        }
        self.data: dict[str, Any] = {}
        self._update(lambda data: data["commands"].append(self.command))

    def _update(self, change: Any) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            data = json.loads(self.path.read_text()) if self.path.exists() else {}
            data.setdefault("runs", {})
            data.setdefault("commands", [])
            data["machine"] = machine()
            change(data)
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
            tmp.replace(self.path)
            self.data = data

    def add(self, key: str, entry: dict[str, Any]) -> None:
        entry["loadavg"] = [round(x, 2) for x in os.getloadavg()]

        def change(data: dict[str, Any]) -> None:
            # A key measured again in this invocation replaces the older runs of that key, unless
            # this invocation continues the campaign (--append: e.g. its remaining repetitions).
            if key not in self.fresh and not self.append:
                data["runs"][key] = []
            data["runs"].setdefault(key, []).append(entry)

        self._update(change)
        self.fresh.add(key)
        print(f"[bench] {key}: {json.dumps(_brief(entry))}", flush=True)

    def set(self, name: str, value: Any) -> None:
        self._update(lambda data: data.__setitem__(name, value))


def _brief(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (round(v, 3) if isinstance(v, float) else v)
        for k, v in entry.items()
        if k in ("records", "seconds", "records_per_s", "peak_rss_mib", "api_calls", "rows_landed")
    }


def _entry(measured: Any, records: int, seconds: float | None = None, **extra: Any) -> dict[str, Any]:
    seconds = seconds if seconds is not None else measured.result.get("seconds", measured.wall_seconds)
    return {
        "records": records,
        "seconds": seconds,
        "records_per_s": records / seconds if seconds else None,
        "process_wall_seconds": measured.wall_seconds,
        "peak_rss_mib": measured.peak_rss_bytes / 2**20,
        "rows_landed": measured.result.get("rows_landed"),
        "cpu": measured.result.get("cpu"),
        "result": measured.result,
        **extra,
    }


def pinned(argv: list[str], args: argparse.Namespace) -> list[str]:
    """The system under test on the CPUs of --cpus (taskset), e.g. a one-CPU pod's shape; the
    servers it talks to (replay, moto, PostgreSQL) are not pinned."""
    return ["taskset", "-c", args.cpus, *argv] if args.cpus else argv


def run_ours(
    rec: Recorder,
    key: str,
    replay: Replay,
    pg_url: str,
    records: int,
    args: argparse.Namespace,
    rps: float = 1000.0,
    burst: int | None = None,
    parallel: int | None = None,
    rerun: bool = False,
    cprofile: str | None = None,
) -> None:
    moto = Moto()  # a fresh S3 per run: nothing of an earlier run is held in moto's memory
    try:
        reset_schemas(pg_url, "raw", "ops")
        argv = [
            *ours_command(replay, moto.url, pg_url, records),
            "--requests-per-second",
            str(rps),
            "--patch",
            args.patch,
        ]
        if burst:
            argv += ["--burst", str(burst)]
        if parallel:
            argv += ["--parallel-pages", str(parallel)]
        if rerun:
            argv.append("--rerun")
        if cprofile:
            argv += ["--cprofile", cprofile]
        measured = run_measured(pinned(argv, args))
    finally:
        moto.stop()
    first = measured.result["first"]
    rec.add(
        key,
        _entry(
            measured,
            records,
            first["seconds"],
            api_calls=first["api_calls"],
            extract_seconds=first["extract_seconds"],
            load_seconds=first["load_seconds"],
            cpu=first.get("cpu"),
        ),
    )
    if rerun and "second" in measured.result:
        second = measured.result["second"]
        rec.add(
            key.replace("ours", "rerun", 1),
            {
                "records": records,
                "seconds": second["seconds"],
                "api_calls": second["api_calls"],
                "first_seconds": first["seconds"],
                "first_api_calls": first["api_calls"],
                "ratio": second["seconds"] / first["seconds"],
                "status": second["status"],
            },
        )
    reset_schemas(pg_url, "raw", "ops")


def run_dlt(rec: Recorder, key: str, replay: Replay, pg_url: str, records: int, mode: str) -> None:
    dataset = f"bench_dlt_{mode}"
    reset_schemas(pg_url, dataset, f"{dataset}_staging")
    measured = run_measured(
        [
            str(BENCH_PY),
            str(ROOT / "bench" / "dlt_runner.py"),
            "--rawg-url",
            replay.rawg,
            "--pg-url",
            pg_url,
            "--dataset",
            dataset,
            "--mode",
            mode,
            "--expect",
            str(records),
        ]
    )
    rec.add(
        key,
        _entry(measured, records, tables=measured.result.get("tables"), steps=measured.result.get("steps")),
    )
    reset_schemas(pg_url, dataset, f"{dataset}_staging")


def run_limits(rec: Recorder, size: int, replay: Replay, pg_url: str, args: argparse.Namespace) -> None:
    clients = args.http_clients
    measured = run_measured(
        pinned(
            [
                sys.executable,
                "-m",
                "bench.limits",
                "http",
                "--rawg-url",
                replay.rawg,
                "--records",
                str(size),
                "--clients",
                str(clients),
            ],
            args,
        )
    )
    rec.add(f"throughput/limit_http/{size}", _entry(measured, size, clients=clients))
    measured = run_measured(
        [
            sys.executable,
            "-m",
            "bench.limits",
            "copy",
            "--pg-url",
            pg_url,
            "--records",
            str(size),
            "--schema",
            "bench_copy",
        ]
    )
    rec.add(f"throughput/limit_copy/{size}", _entry(measured, size))
    reset_schemas(pg_url, "bench_copy")


def throughput(rec: Recorder, args: argparse.Namespace, pg_url: str) -> None:
    sizes = sorted(args.sizes or {max(1, args.size // 10), args.size})
    dlt_sizes = sorted({min(s, args.dlt_size) for s in sizes}) if args.dlt_size else sizes
    for size in sorted(set(sizes) | set(dlt_sizes)):
        replay = Replay(size)
        try:
            for rep in range(args.reps):
                print(f"[bench] throughput size={size} rep {rep + 1}/{args.reps}", flush=True)
                if "ours" in args.systems:
                    run_ours(rec, f"throughput/ours/{size}", replay, pg_url, size, args, rerun=True)
                if "limits" in args.systems:
                    run_limits(rec, size, replay, pg_url, args)
                if "dlt" in args.systems and size in dlt_sizes:
                    for mode in args.dlt_modes:
                        run_dlt(rec, f"throughput/dlt_{mode}/{size}", replay, pg_url, size, mode)
        finally:
            replay.stop()


def latency(rec: Recorder, args: argparse.Namespace, pg_url: str) -> None:
    size = args.latency_size or max(1, args.size // 10)
    dlt_size = min(size, args.dlt_latency_size or size)
    # One server per size: the paginators walk everything the server holds.
    replay = Replay(size, latency_ms=args.latency_ms)
    dlt_replay = replay if dlt_size == size else Replay(dlt_size, latency_ms=args.latency_ms)
    rec.set(
        "latency_setup",
        {
            "latency_ms": args.latency_ms,
            "requests_per_second": args.rps,
            "burst": 1,
            "parallel_pages": args.parallel_pages,
            "page_size": 40,
            "bound_records_per_s": 40 * args.rps,
            "dlt": "sequential (json_link)",
        },
    )
    try:
        for rep in range(args.reps):
            print(f"[bench] latency size={size} rep {rep + 1}/{args.reps}", flush=True)
            if "ours" in args.systems:
                run_ours(
                    rec,
                    f"latency/ours/{size}",
                    replay,
                    pg_url,
                    size,
                    args,
                    rps=args.rps,
                    burst=1,
                    parallel=args.parallel_pages,
                )
            if "dlt" in args.systems:
                run_dlt(rec, f"latency/dlt_nesting0/{dlt_size}", dlt_replay, pg_url, dlt_size, "nesting0")
    finally:
        replay.stop()
        if dlt_replay is not replay:
            dlt_replay.stop()


def parse(rec: Recorder, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="gmp-parse-") as tmp:
        generated = Path(tmp) / "endpoints.yaml"
        made = run_measured(
            [
                sys.executable,
                "-m",
                "bench.parse",
                "make-config",
                "--endpoints",
                str(args.parse_endpoints),
                "--out",
                str(generated),
            ]
        )
        n = made.result["endpoints"]
        # Airflow's own state stays out of ~/airflow (the test suite sets AIRFLOW_HOME itself).
        base = {
            "AIRFLOW_HOME": os.environ.get("AIRFLOW_HOME", str(ROOT / "bench" / "out" / "airflow-home")),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        }
        for _rep in range(args.reps):
            for label, env in (
                ("real", base),
                (f"{n}_endpoints", {**base, "GMP_CONFIG_PATH": str(generated)}),
            ):
                for kind in ("dagbag", "single", "single-marginal"):
                    measured = run_measured([sys.executable, "-m", "bench.parse", kind], env=env)
                    rec.add(
                        f"parse/{kind}/{label}",
                        {
                            "seconds": measured.result["seconds"],
                            "process_wall_seconds": measured.wall_seconds,
                            "airflow_import_seconds": measured.result["airflow_import_seconds"],
                            "task_imports_seconds": measured.result.get("task_imports_seconds"),
                            "s3_hook_loaded": measured.result.get("s3_hook_loaded"),
                            "dags": measured.result["dags"],
                            "import_errors": measured.result.get("import_errors"),
                            "peak_rss_mib": measured.peak_rss_bytes / 2**20,
                        },
                    )


def dbt(rec: Recorder, args: argparse.Namespace, pg_url: str) -> None:
    size = args.dbt_size or args.size
    for rep in range(args.reps):
        # Repetitions after the first reuse the bulk load of raw games (undoing the changes the one
        # before appended): at 1M games it costs minutes and is not what is being measured.
        measured = run_measured(
            [
                sys.executable,
                "-m",
                "bench.transform",
                "--pg-url",
                pg_url,
                "--games",
                str(size),
                "--changed-fraction",
                "0.01",
                "--database",
                f"{args.database}_dbt",
            ]
            + (["--reuse-raw"] if rep or args.dbt_reuse_raw else [])
        )
        r = measured.result
        rec.add(
            f"dbt/full/{size}",
            {
                "records": size,
                "seconds": r["full_seconds"],
                "models": r["models"],
                "load_raw_seconds": r["load_raw_seconds"],
                "raw_reused": r.get("raw_reused"),
            },
        )
        rec.add(
            f"dbt/incremental/{size}",
            {
                "records": size,
                "seconds": r["incremental_seconds"],
                "changed": r["changed"],
                "ratio": r["incremental_seconds"] / r["full_seconds"],
            },
        )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="records at full size (SIZE)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--sizes",
        type=lambda v: [int(x) for x in v.split(",")],
        default=None,
        help="throughput sizes instead of SIZE/10,SIZE (e.g. to run 1M once apart)",
    )
    parser.add_argument("--sections", default=",".join(SECTIONS))
    parser.add_argument("--systems", default="ours,dlt,limits")
    parser.add_argument("--dlt-size", type=int, default=None, help="cap dlt's sizes (default: the same)")
    parser.add_argument(
        "--dbt-reuse-raw",
        action="store_true",
        help="keep an earlier invocation's bulk load of the same size (when it holds one)",
    )
    parser.add_argument(
        "--dlt-modes",
        default="default,nesting0",
        help="dlt settings in the throughput section (default: both)",
    )
    parser.add_argument("--latency-size", type=int, default=None)
    parser.add_argument("--dlt-latency-size", type=int, default=None)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--rps", type=float, default=20.0, help="rate limit in the latency section")
    parser.add_argument("--parallel-pages", type=int, default=8, help="parallel pages in the latency section")
    parser.add_argument("--http-clients", type=int, default=1, help="client processes of the HTTP bound")
    parser.add_argument("--parse-endpoints", type=int, default=500)
    parser.add_argument("--dbt-size", type=int, default=None)
    parser.add_argument(
        "--cpus", default=None, help="pin ours and the HTTP-bound client to these CPUs (taskset -c), e.g. 0"
    )
    parser.add_argument("--patch", default="", help="local experiments applied to ours (bench.patches)")
    parser.add_argument("--pg-admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="gmp_bench")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--no-report", action="store_true", help="do not rewrite bench/RESULTS.md")
    parser.add_argument(
        "--history-name",
        default=None,
        help="write the campaign's full report to bench/history/<name>.md (raw: <name>.json)",
    )
    parser.add_argument(
        "--append",
        action="store_true",
        help="add to the --out file's runs of the same keys (the rest of a campaign) instead of "
        "replacing them",
    )
    args = parser.parse_args(argv)
    args.systems = set(args.systems.split(","))
    args.dlt_modes = [m for m in ("default", "nesting0") if m in args.dlt_modes.split(",")]
    if "dlt" in args.systems and not BENCH_PY.exists():
        raise SystemExit(f"{BENCH_PY} is missing: run `make bench-venv` (dlt lives in its own virtualenv)")
    rec = Recorder(args.out, argv, append=args.append)
    pg_url = ensure_database(args.pg_admin_url, args.database)
    started = time.perf_counter()
    sections = args.sections.split(",")
    if "throughput" in sections:
        throughput(rec, args, pg_url)
    if "latency" in sections:
        latency(rec, args, pg_url)
    if "parse" in sections:
        parse(rec, args)
    if "dbt" in sections:
        dbt(rec, args, pg_url)
    print(f"[bench] done in {time.perf_counter() - started:.0f}s; results in {args.out}", flush=True)
    from bench.report import write_history, write_results_md

    if not args.no_report:
        write_results_md(rec.data, ROOT / "bench" / "RESULTS.md")
    if args.history_name:
        print(f"[bench] full report: {write_history(rec.data, args.history_name, args.out)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
