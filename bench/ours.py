"""Child process: this package's ingestion of RAWG `games` (extract: API -> validated Parquet parts in
S3 bronze; load: COPY into raw.rawg__games), driven through the real pipeline functions, as the
operators call them. Optionally runs the same logical date a second time (the re-run cost).

    python -m bench.ours --rawg-url http://127.0.0.1:P/rawg/api --s3-url http://127.0.0.1:Q \
        --pg-url postgresql://postgres@127.0.0.1:5432/gmp_bench --bucket b1 --expect 100000
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from bench.common import RAWG_KEY, CpuMeter, emit, process_memory, reset_peak_rss

DAY = date(2026, 11, 20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rawg-url", required=True)
    parser.add_argument("--s3-url", required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--expect", type=int, required=True, help="records the API holds")
    parser.add_argument("--requests-per-second", type=float, default=1000.0)
    parser.add_argument("--burst", type=int, default=None)
    parser.add_argument("--parallel-pages", type=int, default=None, help="default: the config's")
    parser.add_argument("--rerun", action="store_true", help="then run the same logical date again")
    parser.add_argument("--patch", default="", help="comma-separated local experiments (bench.patches)")
    parser.add_argument("--cprofile", default=None, help="write cProfile stats of the first run here")
    args = parser.parse_args(argv)

    import boto3
    import psycopg2

    from bench.patches import apply
    from game_market_pipeline.config.loader import load_config
    from game_market_pipeline.ingest.connections import ApiSettings
    from game_market_pipeline.ingest.pipeline import extract, load

    apply([p for p in args.patch.split(",") if p])
    memory = {"after_imports": process_memory()}
    config = load_config()
    endpoint = config.endpoint("rawg", "games")
    if args.parallel_pages:
        endpoint = endpoint.model_copy(update={"parallel_pages": args.parallel_pages})
    rps = args.requests_per_second
    settings = ApiSettings(args.rawg_url, RAWG_KEY, rps, args.burst or max(1, int(rps)), 60.0)
    s3 = boto3.client(
        "s3",
        endpoint_url=args.s3_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket=args.bucket)

    def one_run(run_id: str) -> dict:
        # This process's own memory per phase: the peak is reset between
        # phases, so each phase's peak is its own and the load's is not the extract's.
        reset_peak_rss()
        started = time.perf_counter()
        meter = CpuMeter()
        result = extract(config, endpoint, settings, s3, run_id, DAY, bucket=args.bucket)
        extracted = time.perf_counter()
        cpu = {"extract": meter.stop()}
        memory.setdefault("extract", process_memory())
        reset_peak_rss()
        meter = CpuMeter()
        conn = psycopg2.connect(args.pg_url)
        try:
            loaded = load(config, endpoint, conn, s3, result.manifest_uri, run_id, result.api_calls)
        finally:
            conn.close()
        done = time.perf_counter()
        cpu["load"] = meter.stop()
        memory.setdefault("load", process_memory())
        return {
            "seconds": done - started,
            "extract_seconds": extracted - started,
            "load_seconds": done - extracted,
            "cpu": cpu,
            "api_calls": result.api_calls,
            "records": result.records,
            "invalid": result.invalid,
            "status": loaded.status,
            "copied": loaded.copied,
            "inserted": loaded.inserted,
            "already_complete": result.already_complete,
        }

    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile()
        first = profiler.runcall(one_run, "bench-1")
        profiler.dump_stats(args.cprofile)
    else:
        first = one_run("bench-1")
    import os

    out = {
        "system": "ours",
        "first": first,
        "parallel_pages": endpoint.parallel_pages,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "requests_per_second": rps,
        "patch": args.patch,
        "memory": memory,
    }
    if args.rerun:
        out["second"] = one_run("bench-2")
    conn = psycopg2.connect(args.pg_url)
    with conn.cursor() as cur:
        cur.execute('SELECT count(*) FROM raw."rawg__games"')
        out["rows_landed"] = cur.fetchone()[0]
    conn.close()
    if out["rows_landed"] != args.expect:
        raise SystemExit(f"landed {out['rows_landed']} rows, expected {args.expect}")
    emit(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
