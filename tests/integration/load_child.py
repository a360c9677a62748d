"""Run one load in a child process (the chaos tests kill it at a random point).

Its Postgres session is named by `application_name`, so the test can see when the load's
transaction is under way."""

from __future__ import annotations

import json
import sys

import boto3
import psycopg2

from game_market_pipeline.config.loader import load_config
from game_market_pipeline.ingest.pipeline import load


def main() -> None:
    args = json.loads(sys.argv[1])
    config = load_config()
    endpoint = config.endpoint(args["source"], args["endpoint"])
    s3 = boto3.client(
        "s3",
        endpoint_url=args["s3_endpoint"],
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    conn = psycopg2.connect(args["pg_url"], application_name=args["application_name"])
    try:
        load(config, endpoint, conn, s3, args["manifest_uri"], args["run_id"], 0)
    finally:
        conn.close()


if __name__ == "__main__":
    main()
