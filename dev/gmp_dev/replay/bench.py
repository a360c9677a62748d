"""Throughput of the replay server's synthetic RAWG games (what the ingestion benchmark pulls).

Starts `python -m gmp_dev.replay.server --synthetic-games N` in its own process on
127.0.0.1, then measures pages/s served:
- one client following `next` links (requests.Session, keep-alive), like the paginator does;
- `--clients K` concurrent client processes, each fetching every K-th page by number.

    python -m gmp_dev.replay.bench --games 1000000 --page-size 40 --clients 4

Bodies are read in full but not parsed (`--parse` adds json.loads, i.e. client cost).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import time
from typing import Any

import requests

from gmp_dev.local.stack import LOOPBACK, free_port, replay_server_argv, wait_for_port

KEY = "bench-key"


def _walk_next(base: str, page_size: int, max_pages: int, parse: bool) -> tuple[int, int, int]:
    pages = records = size = 0
    url: str | None = f"{base}/rawg/api/games?key={KEY}&page_size={page_size}"
    with requests.Session() as http:
        while url and pages < max_pages:
            response = http.get(url, timeout=60)
            response.raise_for_status()
            body = response.content
            size += len(body)
            pages += 1
            if parse:
                page = json.loads(body)
                records += len(page["results"])
                url = page["next"]
            else:
                # The `next` link without parsing 300 KB: it sits right after "next": at the start.
                head = body[:600].decode()
                start = head.index('"next":') + 7
                if head.startswith("null", start):
                    url = None
                else:
                    url = json.loads(head[start : head.index('",', start) + 1])
                records += page_size
    return pages, records, size


def _client(args: tuple[str, int, int, int, int, bool]) -> tuple[int, int]:
    base, page_size, first_page, step, last_page, parse = args
    pages = size = 0
    with requests.Session() as http:
        for page in range(first_page, last_page + 1, step):
            response = http.get(
                f"{base}/rawg/api/games",
                params={"key": KEY, "page_size": page_size, "page": page},
                timeout=60,
            )
            response.raise_for_status()
            if parse:
                json.loads(response.content)
            size += len(response.content)
            pages += 1
    return pages, size


def run(
    games: int, page_size: int, clients: int, max_pages: int | None, parse: bool, seed: int = 0
) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        replay_server_argv(port, KEY, "--synthetic-games", str(games), "--seed", str(seed)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://{LOOPBACK}:{port}"
    total_pages = -(-games // page_size)
    limit = min(total_pages, max_pages or total_pages)
    try:
        wait_for_port(port, what="replay server")
        started = time.perf_counter()
        pages, records, size = _walk_next(base, page_size, limit, parse)
        single = time.perf_counter() - started
        jobs = [(base, page_size, 1 + k, clients, limit, parse) for k in range(clients)]
        started = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(clients) as pool:
            results = pool.map(_client, jobs)
        concurrent = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    concurrent_pages = sum(p for p, _ in results)
    return {
        "games": games,
        "page_size": page_size,
        "pages_pulled": pages,
        "records_pulled": records,
        "avg_page_bytes": size // max(pages, 1),
        "single_client": {
            "seconds": round(single, 2),
            "pages_per_s": round(pages / single, 1),
            "records_per_s": round(records / single),
            "MB_per_s": round(size / single / 1e6, 1),
        },
        f"{clients}_clients": {
            "seconds": round(concurrent, 2),
            "pages_per_s": round(concurrent_pages / concurrent, 1),
            "records_per_s": round(concurrent_pages * page_size / concurrent),
        },
        "parse": parse,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--games", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=40)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--max-pages", type=int, default=None, help="stop after this many pages (default: all)"
    )
    parser.add_argument("--parse", action="store_true", help="also json.loads every page (client cost)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.games, args.page_size, args.clients, args.max_pages, args.parse), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
