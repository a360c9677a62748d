"""Record checks in worker processes (ingest/check_pool.py): what lands in S3 and staging is the same,
byte for byte and in order, as with the checks in the task's own process; invalid records, drift and
truncated bodies are handled the same way. Real replay server, real S3 endpoint, real Postgres."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pyarrow.parquet as pq
import pytest

from game_market_pipeline.ingest.bronze import BronzeStore
from game_market_pipeline.ingest.extract import extract_endpoint
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.pipeline import landing_location, load
from game_market_pipeline.ingest.rate_limit import TokenBucket
from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY

pytestmark = pytest.mark.integration

GAMES = 1200  # 30 pages of 40: past MIN_PAGES_FOR_WORKERS


class FaultsOnPlannedPages(ApiClient):
    """Arms replay faults just before the first request for a page after the first, so they hit a
    planned page (the replay server matches faults on the path, which every page shares)."""

    def __init__(self, *args: Any, replay: ReplayServer, faults: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._replay, self._faults = replay, faults
        self._arm_lock = threading.Lock()

    def _arm(self, url: str, params: dict[str, Any] | None) -> None:
        # RAWG's next-link walk plans page URLs (?page=N in the URL, not in params).
        page = (params or {}).get("page") or parse_qs(urlsplit(url).query).get("page", ["1"])[0]
        if int(page) < 2:
            return
        with self._arm_lock:
            faults, self._faults = self._faults, []
        for fault in faults:
            self._replay.add_fault(**fault)

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        self._arm(path_or_url, params)
        return super().get_json(path_or_url, params)

    def get_content(self, path_or_url: str, params: dict[str, Any] | None = None) -> bytes:
        self._arm(path_or_url, params)
        return super().get_content(path_or_url, params)


@pytest.fixture
def games_replay() -> Any:
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES) as replay:
        yield replay


def _extract(harness, replay, check_processes, faults=(), bucket=None):
    endpoint = harness.endpoint("rawg", "games")
    client = FaultsOnPlannedPages(
        replay.base_url("rawg"),
        endpoint.auth,
        FAKE_RAWG_KEY,
        TokenBucket(1000.0, 1000),
        timeout_seconds=10.0,
        source="rawg",
        replay=replay,
        faults=list(faults),
    )
    store = BronzeStore(harness.s3, landing_location(harness.config, endpoint, DAY, bucket or harness.bucket))
    try:
        result = extract_endpoint(endpoint, client, store, "run-1", DAY, check_processes=check_processes)
    finally:
        client.close()
    return endpoint, store, result


def _manifest(harness, store: BronzeStore) -> dict:
    return json.loads(
        harness.s3.get_object(Bucket=store.loc.bucket, Key=store.loc.manifest_key)["Body"].read()
    )


def _landed_rows(harness, store: BronzeStore) -> list[tuple]:
    """(key, content hash, payload, valid, errors, page) of every landed record, in part order."""
    rows = []
    for part in _manifest(harness, store)["parts"]:
        body = harness.s3.get_object(Bucket=store.loc.bucket, Key=part["key"])["Body"].read()
        table = pq.read_table(io.BytesIO(body))
        rows.extend(zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True))
    return rows


def test_worker_checks_land_the_same_records_bytes_and_order(harness, games_replay, caplog):
    _, in_process, first = _extract(harness, games_replay, check_processes=0)
    other_bucket = harness.bucket + "-workers"
    harness.s3.create_bucket(Bucket=other_bucket)
    with caplog.at_level(logging.INFO, logger="game_market_pipeline.ingest.check_pool"):
        endpoint, in_workers, second = _extract(harness, games_replay, check_processes=1, bucket=other_bucket)
    assert "in 1 worker process(es)" in caplog.text
    split = re.search(r"checked (\d+) pages in worker processes, (\d+) in the task's process", caplog.text)
    assert int(split[1]) > 0 and int(split[1]) + int(split[2]) == GAMES // 40 - 1  # page 1 plans the rest
    assert first.records == second.records == GAMES and first.invalid == second.invalid == 0
    assert first.api_calls == second.api_calls == GAMES // 40
    expected, landed = _landed_rows(harness, in_process), _landed_rows(harness, in_workers)
    assert len(landed) == GAMES
    assert landed == expected  # key, content hash, payload, validity, errors and page of every record
    conn = psycopg2.connect(harness.pg_url)
    try:
        loaded = load(
            harness.config, endpoint, conn, harness.s3, second.manifest_uri, "run-2", second.api_calls
        )
    finally:
        conn.close()
    assert loaded.copied == GAMES
    assert harness.query('SELECT count(DISTINCT _record_key) FROM raw."rawg__games"') == [(GAMES,)]


def test_worker_checks_quarantine_invalid_records_and_report_drift(harness, games_replay):
    faults = [
        {"path": "/rawg/api/games", "kind": "wrong_type", "times": 1},
        {"path": "/rawg/api/games", "kind": "unknown_field", "times": 1, "field": "brand_new_field"},
    ]
    _, store, result = _extract(harness, games_replay, check_processes=1, faults=faults)
    manifest = _manifest(harness, store)
    assert result.records == GAMES and result.invalid == 1
    assert manifest["drift_fields"] == {"brand_new_field": 40}  # one page's records
    assert [key.split(":")[0] for key in manifest["error_counts"]] == ["id"]
    invalid = [row for row in _landed_rows(harness, store) if row[3] is False]
    assert len(invalid) == 1 and json.loads(invalid[0][4])[0]["loc"][0] == "id"


def test_truncated_page_checked_in_a_worker_is_fetched_again(harness, games_replay):
    faults = [{"path": "/rawg/api/games", "kind": "malformed", "times": 1}]
    _, store, result = _extract(harness, games_replay, check_processes=1, faults=faults)
    assert result.records == GAMES and result.invalid == 0
    assert result.api_calls == GAMES // 40 + 1  # the truncated page, once more
    assert len({row[0] for row in _landed_rows(harness, store)}) == GAMES
