"""A/B of the package's speed tricks in a one-CPU pod's shape: our ingestion of RAWG `games`
(extract + load, bench.ours) pinned to one CPU (`taskset -c`), with every trick on and with each
switched off alone, interleaved, in one run; and the task process's config parse (the config
trick acts there only) the same way.

    python -m bench.tricks --records 100000 --reps 2 --cpus 0 --out bench/history/X.json

Switches are bench.patches (names rebound in the child) or environment variables, never product
code branches. Per variant: records/s (records over the extract + load wall time), CPU seconds of
the ingesting process (user + system, its children included) and peak RSS of its process tree.
A trick no longer in the package is reported absent.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    Moto,
    Replay,
    emit,
    ensure_database,
    machine,
    ours_command,
    reset_schemas,
    run_measured,
)

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DAG_ID = "ingest__rawg__games"

# name -> (what is switched, extra bench.ours argv, extra environment). "all_on" is the package as
# shipped. The tricks that left the package with issue 22 (check process pool, measured forced on
# as at one CPU it was off by itself; GIL-slicing hashes; partial config parse) left with
# their variants: bench/history/2026-12-04-one-cpu-tricks-before.json keeps their figures.
INGEST_VARIANTS: dict[str, tuple[str, list[str], dict[str, str]]] = {
    "all_on": ("the package as shipped", [], {}),
    "no_mallopt": ("mallopt (mmap threshold) off", ["--patch", "no_mallopt"], {}),
    "no_arrow_pool": (
        "Arrow's default pool (mimalloc), not the system pool",
        [],
        {"ARROW_DEFAULT_MEMORY_POOL": "mimalloc"},
    ),
    "no_twin": ("pydantic validation twin off (model instances)", ["--patch", "no_twin"], {}),
    "no_orjson": ("orjson with byte-pattern guards off (stdlib json)", ["--patch", "no_orjson"], {}),
}
CONFIG_VARIANTS = {"all_on": "", "no_gc_pause": "no_gc_pause"}


def _cpu_seconds(cpu: dict[str, Any] | None) -> float | None:
    if not cpu:
        return None
    return sum(phase["own_cores"] * phase["seconds"] for phase in cpu.values())


def ingest_once(replay: Replay, pg_url: str, args: argparse.Namespace, name: str) -> dict[str, Any]:
    _, extra_argv, extra_env = INGEST_VARIANTS[name]
    moto = Moto()
    try:
        reset_schemas(pg_url, "raw", "ops")
        argv = [
            "taskset",
            "-c",
            args.cpus,
            *ours_command(replay, moto.url, pg_url, args.records, bucket_prefix="tricks"),
            *extra_argv,
        ]
        try:
            measured = run_measured(argv, env=extra_env)
        except RuntimeError as exc:
            if "trick absent" in str(exc):
                return {"variant": name, "absent": str(exc).splitlines()[1][:200]}
            raise
    finally:
        moto.stop()
        reset_schemas(pg_url, "raw", "ops")
    first = measured.result["first"]
    return {
        "variant": name,
        "records_per_s": args.records / first["seconds"],
        "seconds": first["seconds"],
        "cpu_seconds": _cpu_seconds(first.get("cpu")),
        "peak_rss_mib": measured.peak_rss_bytes / 2**20,
        "loadavg": os.getloadavg()[0],
    }


def config_once(config_path: Path, args: argparse.Namespace, name: str) -> dict[str, Any]:
    argv = [
        "taskset",
        "-c",
        args.cpus,
        sys.executable,
        "-m",
        "bench.tricks",
        "config-child",
        "--patch",
        CONFIG_VARIANTS[name],
    ]
    try:
        measured = run_measured(argv, env={"GMP_CONFIG_PATH": str(config_path)})
    except RuntimeError as exc:
        if "trick absent" in str(exc):
            return {"variant": name, "absent": True}
        raise
    return {
        "variant": name,
        "seconds": measured.result["seconds"],
        "peak_rss_mib": measured.peak_rss_bytes / 2**20,
    }


def config_child(patch: str) -> int:
    """A task process's parse of its one DAG file: Airflow imported, the parsing context set."""
    import airflow  # noqa: F401  (a task process has it imported before the DAG file)

    os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = DAG_ID
    import game_market_pipeline.config.loader  # noqa: F401
    import game_market_pipeline.factory.register as register
    from bench.patches import apply

    apply([patch] if patch else [])
    started = time.perf_counter()
    built = register.register_endpoint_dags({})
    emit({"seconds": time.perf_counter() - started, "dags": built})
    return 0


def _summary(runs: list[dict[str, Any]], names: list[str], keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in names:
        mine = [r for r in runs if r["variant"] == name and not r.get("absent")]
        if not mine:
            out[name] = {"absent": True}
            continue
        out[name] = {
            key: statistics.median(r[key] for r in mine) for key in keys if mine[0].get(key) is not None
        }
        out[name]["runs"] = len(mine)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", nargs="?", default="run", choices=["run", "config-child"])
    parser.add_argument("--patch", default="", help="config-child: the switch to apply")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--config-reps", type=int, default=5)
    parser.add_argument("--config-endpoints", type=int, default=500)
    parser.add_argument("--cpus", default="0", help="taskset -c: the CPUs of the process under test")
    parser.add_argument("--variants", default=",".join(INGEST_VARIANTS))
    parser.add_argument("--pg-admin-url", default=DEFAULT_ADMIN_URL)
    parser.add_argument("--database", default="gmp_tricks")
    parser.add_argument("--out", type=Path, required=False)
    args = parser.parse_args(argv)
    if args.kind == "config-child":
        return config_child(args.patch)
    names = args.variants.split(",")
    pg_url = ensure_database(args.pg_admin_url, args.database)
    result: dict[str, Any] = {
        "command": "python -m bench.tricks " + " ".join(argv or sys.argv[1:]),
        "machine": machine(),
        "records": args.records,
        "cpus": args.cpus,
        "variants": {n: INGEST_VARIANTS[n][0] for n in names},
    }
    ingest_runs: list[dict[str, Any]] = []
    replay = Replay(args.records)
    try:
        for rep in range(args.reps):
            for name in names if rep % 2 == 0 else reversed(names):  # interleaved, both orders
                run = ingest_once(replay, pg_url, args, name)
                ingest_runs.append(run)
                print(f"[tricks] rep {rep + 1} {json.dumps(run)}", flush=True)
    finally:
        replay.stop()
    config_runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gmp-tricks-") as tmp:
        config_path = Path(tmp) / "endpoints.yaml"
        run_measured(
            [
                sys.executable,
                "-m",
                "bench.parse",
                "make-config",
                "--endpoints",
                str(args.config_endpoints),
                "--out",
                str(config_path),
            ]
        )
        for _rep in range(args.config_reps):
            for name in CONFIG_VARIANTS:
                run = config_once(config_path, args, name)
                config_runs.append(run)
                print(f"[tricks] config {json.dumps(run)}", flush=True)
    result["ingest"] = _summary(
        ingest_runs, names, ("records_per_s", "seconds", "cpu_seconds", "peak_rss_mib")
    )
    result["config_parse"] = _summary(config_runs, list(CONFIG_VARIANTS), ("seconds", "peak_rss_mib"))
    result["runs"] = {"ingest": ingest_runs, "config": config_runs}
    base = result["ingest"].get("all_on", {})
    for figures in result["ingest"].values():
        if figures.get("records_per_s") and base.get("records_per_s"):
            # What the trick gains: all-on over switched-off.
            figures["trick_gain_records_per_s"] = round(
                base["records_per_s"] / figures["records_per_s"] - 1, 4
            )
    config_base = result["config_parse"].get("all_on", {}).get("seconds")
    for figures in result["config_parse"].values():
        if figures.get("seconds") and config_base:
            figures["trick_gain_parse_time"] = round(figures["seconds"] / config_base - 1, 4)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
