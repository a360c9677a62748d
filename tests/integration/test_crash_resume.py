"""A real process kill mid-ingestion, then a re-run: no row lost, none doubled, nothing re-fetched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from game_market_pipeline.ingest.connections import ApiSettings
from gmp_dev.replay.server import ReplayServer
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY

pytestmark = pytest.mark.integration

GAMES = 2000
PART_RECORDS = 200  # 5 pages of 40 per part


def _checkpoints(harness) -> int:
    response = harness.s3.list_objects_v2(Bucket=harness.bucket, Prefix="bronze/source=rawg/endpoint=games/")
    return sum(1 for item in response.get("Contents", []) if item["Key"].endswith(".checkpoint.json"))


def test_killed_ingestion_resumes_without_loss_or_duplicates(harness, s3_endpoint):
    with ReplayServer(rawg_key=FAKE_RAWG_KEY, synthetic_games=GAMES, latency_ms=15) as replay:
        args = {
            "source": "rawg",
            "endpoint": "games",
            "s3_endpoint": s3_endpoint,
            "bucket": harness.bucket,
            "base_url": replay.base_url("rawg"),
            "secret": FAKE_RAWG_KEY,
            "day": DAY.isoformat(),
            "part_records": PART_RECORDS,
        }
        child = subprocess.Popen([sys.executable, "-m", "tests.integration.extract_child", json.dumps(args)])
        deadline = time.monotonic() + 60
        while _checkpoints(harness) < 3 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
        assert child.poll() is None, "the child finished before it could be killed: make the walk slower"
        child.send_signal(signal.SIGKILL)
        child.wait()
        landed_parts = _checkpoints(harness)
        assert 3 <= landed_parts < GAMES // PART_RECORDS
        assert (
            harness.s3.list_objects_v2(
                Bucket=harness.bucket,
                Prefix=f"bronze/source=rawg/endpoint=games/ingest_date={DAY.isoformat()}/_manifest.json",
            ).get("KeyCount")
            == 0
        )

        requests_before = replay.stats()["requests"]
        harness.replay = replay
        endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
        settings = ApiSettings(replay.base_url("rawg"), FAKE_RAWG_KEY, 1000.0, 1000, 10.0)
        result, loaded = harness.run(endpoint, settings=settings, part_records=PART_RECORDS)
        resumed_calls = replay.stats()["requests"] - requests_before

    total_pages = GAMES // 40
    assert resumed_calls == result.api_calls
    # Only the pages after the last landed part were fetched again.
    assert resumed_calls <= total_pages - landed_parts * (PART_RECORDS // 40)
    manifest = harness.manifest(result)
    assert manifest["resumed"] is True and manifest["records"] == GAMES
    assert loaded.copied == GAMES
    assert harness.query('SELECT count(*), count(DISTINCT _record_key) FROM raw."rawg__games"') == [
        (GAMES, GAMES)
    ]
