"""Child process, run with the .venv-bench interpreter (dlt is a benchmark-only dependency):
dlt's `rest_api` source following RAWG's `next` links (json_link paginator) into dlt's postgres
destination, on the same replay server and Postgres as ours.

--mode default: as a user gets it (nested lists normalised into child tables).
--mode nesting0: the fastest comparable setting (max_table_nesting=0: nested data kept as JSON).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import RAWG_KEY, CpuMeter, emit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rawg-url", required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--mode", choices=["default", "nesting0"], required=True)
    parser.add_argument("--expect", type=int, required=True)
    args = parser.parse_args(argv)

    import dlt
    import psycopg2
    from dlt.sources.rest_api import rest_api_source

    # dlt insists on a password; the benchmark server trusts loopback, so any value will do.
    credentials = (
        args.pg_url.replace("postgres@", "postgres:bench@", 1)
        if "@" in args.pg_url and ":" not in args.pg_url.split("//", 1)[1].split("@", 1)[0]
        else args.pg_url
    )
    # The key is a plain query parameter: RAWG's `next` links echo it (and page_size), and the
    # json_link paginator follows them as they are. (dlt's api_key auth would add a second `key`
    # to every followed link, and the echoed URL would grow by one `&key=` per page.)
    started = time.perf_counter()
    cpu = CpuMeter()
    source = rest_api_source(
        {
            "client": {
                "base_url": args.rawg_url + "/",
                "paginator": {"type": "json_link", "next_url_path": "next"},
            },
            "resource_defaults": {"write_disposition": "append"},
            "resources": [
                {
                    "name": "games",
                    "endpoint": {
                        "path": "games",
                        "params": {"page_size": 40, "key": RAWG_KEY},
                        "data_selector": "results",
                    },
                }
            ],
        }
    )
    if args.mode == "nesting0":
        source.max_table_nesting = 0
    with tempfile.TemporaryDirectory(prefix="dlt-bench-") as pipelines_dir:
        pipeline = dlt.pipeline(
            pipeline_name=f"bench_{args.dataset}",
            pipelines_dir=pipelines_dir,
            destination=dlt.destinations.postgres(credentials=credentials),
            dataset_name=args.dataset,
        )
        info = pipeline.run(source)
        seconds = time.perf_counter() - started
        cpu_use = cpu.stop()
        trace = pipeline.last_trace
        steps = {
            step.step: (step.finished_at - step.started_at).total_seconds()
            for step in trace.steps
            if step.finished_at and step.started_at
        }
    conn = psycopg2.connect(args.pg_url)
    with conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{args.dataset}".games')
        rows = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", (args.dataset,))
        tables = cur.fetchone()[0]
    conn.close()
    if rows != args.expect:
        raise SystemExit(f"dlt landed {rows} rows, expected {args.expect}")
    emit(
        {
            "system": f"dlt_{args.mode}",
            "seconds": seconds,
            "steps": steps,
            "rows_landed": rows,
            "tables": tables,
            "cpu": cpu_use,
            "has_failed_jobs": bool(info.has_failed_jobs),
            "dlt_version": dlt.__version__,
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
