"""Fixtures of the UI tests.

- `harness` (per test): the ingestion harness of tests/integration (replay server, moto S3, Postgres).
- `ui_warehouse_url` (session): a warehouse database of its own, filled by `seed` through the real
  code while `airflow_server` (session) starts Airflow's API server and scheduler over it, login enabled.
- `browser` (session): headless Debian Chromium driven by Playwright (skipped, with the reason, when
  /usr/bin/chromium or the playwright package is missing: `make browser` installs both).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from game_market_pipeline.config.loader import load_config
from tests.conftest import PROJECT_ROOT, _new_database, pg_conn_json, s3_conn_json
from tests.fixtures_replay import replay_connection_env
from tests.integration.conftest import Harness, harness  # noqa: F401 - re-exported fixture
from tests.ui import seed

CHROMIUM = "/usr/bin/chromium"
# Never a downloaded browser: Debian's chromium, without the calls home it makes by default.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = PROJECT_ROOT / ".local" / "screenshots"


@pytest.fixture(scope="session")
def ui_warehouse_url(pg_server_url) -> Iterator[str]:
    yield from _new_database(pg_server_url)


def _seed(url: str, s3_endpoint: str, bucket: str, replay_server) -> seed.Seeded:
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    if bucket not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=bucket)
    replay_server.reset()
    try:
        seeded = seed.seed_ingestion(Harness(load_config(), replay_server, s3, bucket, url), replay_server)
    finally:
        replay_server.reset()
    seed.seed_quality_and_production(url)
    return seeded


@pytest.fixture(scope="session")
def airflow_server(ui_warehouse_url, pg_server_url, s3_endpoint, replay_server, tmp_path_factory):
    """Airflow over the seeded warehouse; `.seeded` tells what the seeding wrote."""
    from tests.ui.airflow_server import metadata_database, running_airflow

    # A bucket per session: a bronze landing left by an earlier session would be reused without API calls.
    bucket = f"ui-lake-{uuid.uuid4().hex[:8]}"
    connections = {
        "AIRFLOW_CONN_WAREHOUSE_DB": pg_conn_json(ui_warehouse_url),
        "AIRFLOW_CONN_LAKE_S3": s3_conn_json(s3_endpoint),
        "LAKE_BUCKET": bucket,
        **replay_connection_env(replay_server),
    }
    home = tmp_path_factory.mktemp("ui-airflow") / "airflow"
    # The warehouse is seeded while Airflow starts (they share nothing but the Postgres server).
    with ThreadPoolExecutor(max_workers=1) as pool:
        seeding = pool.submit(_seed, ui_warehouse_url, s3_endpoint, bucket, replay_server)
        with (
            metadata_database(pg_server_url) as meta_url,
            running_airflow(meta_url, home, connections) as server,
        ):
            server.seeded = seeding.result()
            yield server


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian package chromium; `make browser` installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (`make venv` installs the dev extra)")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
