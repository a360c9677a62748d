"""Child processes for the machine's limits on the same data:

- `http`: fetch and JSON-decode every page of the replay server's synthetic RAWG games as fast as
  possible (K client processes, each on every K-th page by number, raw http.client keep-alive):
  the HTTP bound of any pipeline against this server on this machine.
- `copy`: a bare `COPY` of the same rows (record key, content hash, payload, ...) from a local CSV file
  into a table shaped like raw.<source>__<endpoint> (with its unique key): the database bound.
  The file is written first (not timed).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import json
import multiprocessing
import os
import tempfile
import time
from urllib.parse import urlsplit

from bench.common import RAWG_KEY, CpuMeter, emit


def _fetch_pages(args: tuple[str, int, int, int]) -> tuple[int, int]:
    base, first, step, last = args
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    records = pages = 0
    for page in range(first, last + 1, step):
        conn.request("GET", f"{parts.path}/games?key={RAWG_KEY}&page_size=40&page={page}")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"page {page}: HTTP {response.status}")
        records += len(json.loads(body)["results"])
        pages += 1
    conn.close()
    return pages, records


def http_bound(rawg_url: str, records: int, clients: int) -> dict:
    last = -(-records // 40)
    started = time.perf_counter()
    cpu = CpuMeter()
    if clients == 1:
        results = [_fetch_pages((rawg_url, 1, 1, last))]
    else:
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            results = pool.map(_fetch_pages, [(rawg_url, 1 + k, clients, last) for k in range(clients)])
    seconds = time.perf_counter() - started
    cpu_use = cpu.stop()
    got = sum(r for _, r in results)
    return {
        "system": "limit_http",
        "seconds": seconds,
        "rows_landed": got,
        "pages": sum(p for p, _ in results),
        "clients": clients,
        "cpu": cpu_use,
    }


def copy_bound(pg_url: str, records: int, schema: str) -> dict:
    import psycopg2

    from game_market_pipeline.ingest.hashing import canonical_json
    from game_market_pipeline.ingest.staging import ensure_staging_table, prefer_lz4_toast
    from gmp_dev.replay.synthetic import SyntheticGames

    games = SyntheticGames(records)
    fd, path = tempfile.mkstemp(prefix="gmp-copy-bound-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            for game in games.iter_games():
                payload = canonical_json(game)
                writer.writerow(
                    [
                        game["id"],
                        hashlib.sha256(payload.encode()).hexdigest(),
                        payload,
                        "2026-11-20T00:00:00+00:00",
                        "bench",
                        "s3://bench/part.parquet",
                    ]
                )
        conn = psycopg2.connect(pg_url)
        with conn, conn.cursor() as cur:
            cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
            # The same table as the package's staging (indexes, TOAST compression): the database's bound for it.
            ensure_staging_table(cur, schema, "games")
        started = time.perf_counter()
        cpu = CpuMeter()
        with conn, conn.cursor() as cur, open(path, "rb") as handle:
            prefer_lz4_toast(cur)
            cur.copy_expert(
                f'COPY "{schema}".games (_record_key, _content_hash, payload, _ingested_at, _run_id, '
                "_source_uri) FROM STDIN WITH (FORMAT csv)",
                handle,
                size=1 << 20,
            )
        seconds = time.perf_counter() - started
        cpu_use = cpu.stop()
        with conn.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{schema}".games')
            rows = cur.fetchone()[0]
        conn.close()
        return {
            "system": "limit_copy",
            "seconds": seconds,
            "rows_landed": rows,
            "file_bytes": os.path.getsize(path),
            "cpu": cpu_use,
        }
    finally:
        os.unlink(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["http", "copy"])
    parser.add_argument("--rawg-url")
    parser.add_argument("--pg-url")
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--schema", default="bench_copy")
    args = parser.parse_args(argv)
    if args.kind == "http":
        emit(http_bound(args.rawg_url, args.records, args.clients))
    else:
        emit(copy_bound(args.pg_url, args.records, args.schema))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
