"""Run one extract in a child process (the crash/resume and chaos tests kill it mid-way).

With `pg_url`, the extract leases its endpoint and date and counts its calls in that warehouse,
as a task does (`lease_ttl_seconds` shortens the lease so a test can watch a dead one expire)."""

from __future__ import annotations

import json
import sys
from datetime import date

import boto3
import psycopg2

from game_market_pipeline.config.loader import load_config
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.ingest.pipeline import extract


def main() -> None:
    args = json.loads(sys.argv[1])
    config = load_config()
    endpoint = config.endpoint(args["source"], args["endpoint"]).model_copy(update={"parallel_pages": 1})
    s3 = boto3.client(
        "s3",
        endpoint_url=args["s3_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    settings = ApiSettings(args["base_url"], args.get("secret"), 1000.0, 1000, 10.0)
    warehouse = {}
    if args.get("pg_url"):
        warehouse = {
            "warehouse": lambda: psycopg2.connect(args["pg_url"]),
            "lease_ttl_seconds": float(args.get("lease_ttl_seconds", 90.0)),
        }
    extract(
        config,
        endpoint,
        settings,
        s3,
        "run-killed",
        date.fromisoformat(args["day"]),
        bucket=args["bucket"],
        part_records=args["part_records"],
        **warehouse,
    )


if __name__ == "__main__":
    main()
