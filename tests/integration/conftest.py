"""An ingestion harness over the real pieces: replay server (HTTP) -> moto S3 (HTTP) -> Postgres."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import boto3
import psycopg2
import pytest

from game_market_pipeline.config.loader import LoadedConfig, load_config
from game_market_pipeline.config.models import ResolvedEndpoint
from game_market_pipeline.ingest.connections import ApiSettings
from game_market_pipeline.ingest.extract import ExtractResult
from game_market_pipeline.ingest.pipeline import extract, load
from game_market_pipeline.ingest.staging import LoadResult
from tests.conftest import FAKE_RAWG_KEY

DAY = date(2026, 11, 20)


@dataclass
class Harness:
    config: LoadedConfig
    replay: Any
    s3: Any
    bucket: str
    pg_url: str

    def endpoint(self, source: str, name: str, **overrides: Any) -> ResolvedEndpoint:
        endpoint = self.config.endpoint(source, name)
        return endpoint.model_copy(update=overrides) if overrides else endpoint

    def settings(
        self, endpoint: ResolvedEndpoint, secret: str | None = FAKE_RAWG_KEY, timeout: float = 5.0
    ) -> ApiSettings:
        return ApiSettings(
            self.replay.base_url(endpoint.source),
            secret if endpoint.source == "rawg" else None,
            1000.0,
            1000,
            timeout,
        )

    def extract(
        self,
        endpoint: ResolvedEndpoint,
        day: date = DAY,
        run_id: str = "run-1",
        settings: ApiSettings | None = None,
        **kwargs: Any,
    ) -> ExtractResult:
        # As in a task: the endpoint and date is leased and every call counted in the warehouse.
        kwargs.setdefault("warehouse", self.connect)
        return extract(
            self.config,
            endpoint,
            settings or self.settings(endpoint),
            self.s3,
            run_id,
            day,
            bucket=self.bucket,
            **kwargs,
        )

    def connect(self) -> Any:
        return psycopg2.connect(self.pg_url)

    def load(self, endpoint: ResolvedEndpoint, result: ExtractResult, run_id: str = "run-1") -> LoadResult:
        conn = psycopg2.connect(self.pg_url)
        try:
            return load(self.config, endpoint, conn, self.s3, result.manifest_uri, run_id, result.api_calls)
        finally:
            conn.close()

    def run(
        self, endpoint: ResolvedEndpoint, day: date = DAY, run_id: str = "run-1", **kwargs: Any
    ) -> tuple[ExtractResult, LoadResult]:
        result = self.extract(endpoint, day, run_id, **kwargs)
        return result, self.load(endpoint, result, run_id)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = psycopg2.connect(self.pg_url)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall()
        finally:
            conn.close()

    def s3_objects(self) -> list[tuple[str, bytes, dict]]:
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            for item in page.get("Contents", []):
                obj = self.s3.get_object(Bucket=self.bucket, Key=item["Key"])
                out.append((item["Key"], obj["Body"].read(), obj.get("Metadata", {})))
        return out

    def manifest(self, result: ExtractResult) -> dict:
        key = result.manifest_uri.split("/", 3)[3]
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())


@pytest.fixture
def harness(fresh_pg_url: str, s3_endpoint: str, s3_bucket: str, clean_replay_server: Any) -> Harness:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    return Harness(load_config(), clean_replay_server, s3, s3_bucket, fresh_pg_url)
