"""The transform DAG's wall time next to a bare `dbt build` of the same data, in one run on one machine.

    python -m bench.transform_dag                      # the local data (`make run` loaded it)
    python -m bench.transform_dag --games 100000       # + 100,000 synthetic RAWG games
    python -m bench.transform_dag --modes watcher local --repeat 1

A dedicated database (`gmp_bench_dag` on the local stack's PostgreSQL) gets a copy of the local
warehouse's raw.* tables (plus, with --games N, N synthetic RAWG games: bench.transform.load_raw); then,
each from the same state (no gold schema: a full build of every seed, model and test):

- `bare`: `python -m gmp_dev.run_dbt build` into a fresh schema;
- `watcher` / `local`: `airflow dags test transform_warehouse` with GMP_DBT_EXECUTION_MODE=<mode>, the
  whole DAG (prepare -> dbt -> quality checks -> gate -> promotion), Airflow's metadata in the local
  stack's airflow_meta database as `make run` uses it.

Both use the same dbt threads (GMP_DBT_THREADS, default 4). Reported per run: wall seconds, the DAG run's
task instances (from the `[DAG TEST] end task` lines), dbt invocations (ops.dbt_run_results rows of the
run: each is one dbt process, i.e. one pod under a Kubernetes executor in LOCAL mode), and
pods-equivalent per run under the KubernetesExecutor: every task instance that needs a worker
(the watcher's per-node tasks start and end in the triggerer: zero pods; see docs/TRANSFORM.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.common import ROOT, ensure_database, machine, reset_schemas

BENCH_DATABASE = "gmp_bench_dag"
BARE_SCHEMA = "bench_bare"
WAP_SCHEMAS = ("analytics_audit", "analytics", "analytics_previous")
RAW_SCHEMA = "raw"


COLUMNS = "_record_key, _content_hash, payload, _ingested_at, _run_id, _source_uri"


def copy_raw(source_url: str, target_url: str) -> int:
    """raw.* of the local warehouse -> the bench database: same tables (as the ingestion creates them), same rows."""
    import psycopg2
    from psycopg2 import sql

    from game_market_pipeline.ingest.staging import ensure_staging_table
    from game_market_pipeline.transform.sources import source_tables

    staging = {table for _, _, table in source_tables()}  # not raw.quarantine and other non-staging tables
    src, dst = psycopg2.connect(source_url), psycopg2.connect(target_url)
    rows = 0
    with src.cursor() as scur, dst.cursor() as dcur:
        dcur.execute("DROP SCHEMA IF EXISTS raw CASCADE; CREATE SCHEMA raw")
        scur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_type = 'BASE TABLE' ORDER BY 1",
            (RAW_SCHEMA,),
        )
        for (table,) in [row for row in scur.fetchall() if row[0] in staging]:
            ident = sql.Identifier(RAW_SCHEMA, table)
            ensure_staging_table(dcur, RAW_SCHEMA, table)
            buffer = io.StringIO()
            scur.copy_expert(
                sql.SQL("COPY {} ({}) TO STDOUT").format(ident, sql.SQL(COLUMNS)).as_string(src), buffer
            )
            buffer.seek(0)
            dcur.copy_expert(
                sql.SQL("COPY {} ({}) FROM STDIN").format(ident, sql.SQL(COLUMNS)).as_string(dst), buffer
            )
            dcur.execute(sql.SQL("SELECT count(*) FROM {}").format(ident))
            rows += dcur.fetchone()[0]
            dcur.execute(sql.SQL("ANALYZE {}").format(ident))
    dst.commit()
    src.close()
    dst.close()
    return rows


def add_games(pg_url: str, games: int) -> None:
    """N synthetic RAWG games (the replay server's generator) appended to raw.rawg__games, one version each."""
    import csv
    import hashlib

    import psycopg2

    from bench.transform import INGESTED_AT
    from game_market_pipeline.ingest.hashing import canonical_json
    from gmp_dev.replay.synthetic import SyntheticGames

    generator = SyntheticGames(games)
    conn = psycopg2.connect(pg_url)
    with conn.cursor() as cur:
        for start in range(0, games, 10_000):
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            for game in generator.iter_games(start, min(games, start + 10_000)):
                payload = canonical_json(game)
                writer.writerow(
                    [
                        f"{game['id']}",
                        hashlib.sha256(payload.encode()).hexdigest(),
                        payload,
                        INGESTED_AT,
                        "bench-transform",
                        "s3://bench/bronze/part.parquet",
                    ]
                )
            out.seek(0)
            cur.copy_expert(
                f'COPY raw."rawg__games" ({COLUMNS}) FROM STDIN WITH (FORMAT csv)', out, size=1 << 20
            )
        cur.execute('ANALYZE raw."rawg__games"')
    conn.commit()
    conn.close()


def bare_build(pg_url: str, env: dict[str, str], root: Path = ROOT, quiet: bool = False) -> dict:
    """`dbt build` of the whole project on the command line: the dbt next to this interpreter, nothing else.

    quiet: with the producer's flags (`--quiet --log-level-file none`), the fastest a command line gets.
    """
    from gmp_dev.run_dbt import dbt_env

    reset_schemas(pg_url, BARE_SCHEMA)
    project = root / "dbt"
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(project / "target" / "bench"),
    ]
    command += ["--quiet", "--log-level-file", "none"] if quiet else []
    started = time.perf_counter()
    proc = subprocess.run(
        command, capture_output=True, text=True, cwd=project, env={**env, **dbt_env(pg_url, BARE_SCHEMA)}
    )
    seconds = time.perf_counter() - started
    tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    return {
        "kind": "bare:quiet" if quiet else "bare",
        "seconds": round(seconds, 1),
        "rc": proc.returncode,
        "tail": tail,
        "task_instances": 0,
        "dbt_invocations": 1,
        "pods_equivalent": 1,
    }


def variant_env(env: dict[str, str], name: str, root: Path, meta_url: str) -> dict[str, str]:
    """Airflow's environment for the DAG code under `root` (its include/ and dags/), own metadata database."""
    home = root / ".local" / "bench-airflow" / name
    home.mkdir(parents=True, exist_ok=True)
    return {
        **env,
        "PYTHONPATH": os.pathsep.join([str(root / "include"), str(root)]),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url.replace("postgresql://", "postgresql+psycopg2://", 1),
    }


def dag_test(
    pg_url: str, mode: str, env: dict[str, str], log_dir: Path, variant: str = "after", repetition: int = 1
) -> dict:
    """`airflow dags test transform_warehouse` from a state with no gold schema (a full build)."""
    import psycopg2

    reset_schemas(pg_url, *WAP_SCHEMAS)
    run_env = {**env, "GMP_DBT_EXECUTION_MODE": mode}
    log_path = log_dir / f"transform_dag_{variant}_{mode}_{repetition}.log"
    started = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "dags", "test", "transform_warehouse"],
            env=run_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    seconds = time.perf_counter() - started
    text = log_path.read_text()
    tasks = re.findall(r"\[DAG TEST\] end task task_id=(\S+)", text)
    run_ids = re.findall(r"run_id=(manual__[^, ]+)", text)
    run_id = run_ids[-1] if run_ids else None
    conn = psycopg2.connect(pg_url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ops.dbt_run_results WHERE build_id = %s", (run_id,))
        invocations = cur.fetchone()[0]
        cur.execute(
            "SELECT verdict FROM ops.quality_verdicts WHERE build_id = %s ORDER BY id DESC LIMIT 1", (run_id,)
        )
        verdict = (cur.fetchone() or [None])[0]
    conn.close()
    dbt_tasks = [t for t in tasks if t.startswith("dbt.")]
    if mode == "watcher":
        # per-node tasks start and end in the triggerer; the producer, the gateway EmptyOperator (the
        # scheduler finishes it without a worker) and the write-audit-publish tasks are what remains
        node_tasks = [t for t in dbt_tasks if not t.startswith("dbt.dbt_producer_watcher")]
        pods = len(tasks) - len(node_tasks) - sum(1 for t in tasks if t.endswith("dbt_producer_watcher_done"))
    else:
        pods = len(tasks)
    return {
        "kind": f"dag:{variant}:{mode}",
        "seconds": round(seconds, 1),
        "rc": proc.returncode,
        "run_id": run_id,
        "task_instances": len(tasks),
        "dbt_tasks": len(dbt_tasks),
        "dbt_invocations": invocations,
        "pods_equivalent": pods,
        "gate": verdict,
        "log": str(log_path),
        "phases": phases(text, seconds),
    }


def phases(log_text: str, wall_seconds: float | None = None) -> dict[str, float]:
    """Where one `airflow dags test` run's time went, from its log's timestamps (seconds).

    start-up: everything before the first task starts (Python, Airflow, two DagBag fills, the DAG run) —
    `wall_seconds` minus the logged span; api_start-up: Airflow's in-process execution API, built when
    the first task starts; producer: the dbt build's task (dbt_run: dbt's own run inside it); node_tasks:
    the per-model/seed tasks (and Cosmos' gateway); wap: prepare, quality checks, gate, promotion.
    """
    from datetime import datetime

    def stamp(line: str) -> float:
        return datetime.fromisoformat(line[:26].rstrip("Z")).timestamp()

    lines = log_text.splitlines()
    spans: dict[str, list[float]] = {}
    first = last = None
    api = dbt_start = dbt_end = None
    running_first = None
    for line in lines:
        if not line[:4].isdigit():
            continue
        if m := re.search(r"\[DAG TEST\] (starting|end task) task_id=(\S+)", line):
            t = stamp(line)
            first = t if first is None else first
            last = t
            spans.setdefault(m.group(2), []).append(t)
        elif running_first is None and "[DAG TEST] running task" in line:
            running_first = stamp(line)
        elif api is None and running_first is not None and "Task started" in line:
            api = stamp(line) - running_first
        elif dbt_start is None and "Trying to run dbtRunner" in line:
            dbt_start = stamp(line)
        elif "node(s) finished; results pushed" in line or "Done. PASS=" in line:
            dbt_end = stamp(line)
    took = {task: ts[-1] - ts[0] for task, ts in spans.items()}
    producer = took.pop("dbt.dbt_producer_watcher", 0.0)
    nodes = sum(v for k, v in took.items() if k.startswith("dbt."))
    wap = sum(v for k, v in took.items() if not k.startswith("dbt.")) - (api or 0.0)
    out = {
        "api_startup": api or 0.0,
        "producer": producer,
        "dbt_run": (dbt_end or 0.0) - (dbt_start or 0.0),
        "node_tasks": nodes,
        "node_task_count": sum(1 for k in took if k.startswith("dbt.")),
        "wap": wap,
    }
    if wall_seconds is not None and first is not None:
        out["startup_and_exit"] = wall_seconds - (last - first)
    return {k: round(v, 1) for k, v in out.items()}


def load_fixture(pg_url: str) -> int:
    """The recorded API payloads (tests/dbt/raw_fixture: day one) as raw.*: the data every dbt test uses."""
    import psycopg2

    from game_market_pipeline.transform.sources import source_tables
    from tests.dbt.raw_fixture import load_day_one

    reset_schemas(pg_url, RAW_SCHEMA, "ops")
    conn = psycopg2.connect(pg_url)
    rows = load_day_one(conn, [t for _, _, t in source_tables()])
    conn.commit()
    conn.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", type=int, default=0, help="synthetic RAWG games added to the local data")
    parser.add_argument("--modes", nargs="+", default=["watcher"], choices=["watcher", "local"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=int(os.environ.get("GMP_DBT_THREADS", "4")))
    parser.add_argument(
        "--raw",
        choices=["fixture", "local"],
        default="fixture",
        help="fixture: the recorded payloads (tests/dbt/raw_fixture); local: copy the local "
        "stack's raw.* (after `make run`)",
    )
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("GMP_TEST_PG_URL"),
        help="a PostgreSQL server for the bench's databases (default $GMP_TEST_PG_URL, else the "
        "local stack's)",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=ROOT",
        help="the DAG code of a checkout (its include/ and dags/), e.g. before=../wt-9c48c31; "
        "default: after=this checkout",
    )
    parser.add_argument(
        "--quiet-bare",
        action="store_true",
        help="also time `dbt build --quiet --log-level-file none` (the producer's flags)",
    )
    parser.add_argument("--out", type=Path, help="append the JSON result to this file")
    args = parser.parse_args(argv)
    variants = dict(v.split("=", 1) for v in args.variant) or {"after": str(ROOT)}
    machine_at_start = machine()

    env = {
        **os.environ,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
    }
    if args.pg_admin_url:
        admin = args.pg_admin_url
        # the transform DAG reads no lake and no API: placeholders keep the local stack from starting
        for name in ("LAKE_S3", "RAWG_API", "TCGDEX_API", "POKEMONTCG_API", "POKEAPI_API"):
            env.setdefault(
                f"AIRFLOW_CONN_{name}", json.dumps({"conn_type": "http", "host": "http://127.0.0.1:9"})
            )
    else:
        from gmp_dev.local.airflow_env import airflow_environment
        from gmp_dev.local.run_all import warehouse_url

        env = airflow_environment()
        admin = warehouse_url(env).rsplit("/", 1)[0] + "/postgres"
    pg_url = ensure_database(admin, BENCH_DATABASE)
    if args.raw == "local":
        from gmp_dev.local.airflow_env import airflow_environment
        from gmp_dev.local.run_all import warehouse_url

        raw_rows = copy_raw(warehouse_url(airflow_environment()), pg_url)
    else:
        raw_rows = load_fixture(pg_url)
    if args.games:
        add_games(pg_url, args.games)
    from tests.conftest import pg_conn_json

    env = {
        **env,
        "AIRFLOW_CONN_WAREHOUSE_DB": pg_conn_json(pg_url),
        "GMP_DBT_THREADS": str(args.threads),
        "GMP_DBT_SCHEMA": "analytics_audit",
    }
    envs = {}
    for name, root in variants.items():
        meta = ensure_database(admin, f"{BENCH_DATABASE}_meta_{name}")
        envs[name] = variant_env(env, name, Path(root).resolve(), meta)
        subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            env=envs[name],
            check=True,
            capture_output=True,
        )
    log_dir = ROOT / ".local" / "logs" / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for repetition in range(1, args.repeat + 1):
        runs.append(bare_build(pg_url, env))
        print(json.dumps(runs[-1]), flush=True)
        if args.quiet_bare:
            runs.append(bare_build(pg_url, env, quiet=True))
            print(json.dumps(runs[-1]), flush=True)
        for name in variants:
            for mode in args.modes:
                runs.append(dag_test(pg_url, mode, envs[name], log_dir, name, repetition))
                print(json.dumps(runs[-1]), flush=True)
    bare = [r["seconds"] for r in runs if r["kind"] == "bare"]
    mean_bare = sum(bare) / len(bare)
    summary = {
        kind: round(sum(r["seconds"] for r in runs if r["kind"] == kind) / len(bare) / mean_bare, 2)
        for kind in dict.fromkeys(r["kind"] for r in runs if r["kind"] != "bare")
    }
    result_load = os.getloadavg()
    result = {
        "machine": machine_at_start,
        "loadavg_at_end": [round(x, 2) for x in result_load],
        "games_added": args.games,
        "raw": args.raw,
        "raw_rows": raw_rows + args.games,
        "threads": args.threads,
        "variants": variants,
        "runs": runs,
        "ratio_to_bare": summary,
    }
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "a") as out:
            out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
