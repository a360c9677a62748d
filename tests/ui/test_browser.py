"""What a person checks in the Airflow UI, in headless Chromium against a real API server and scheduler.

Login is enabled (simple auth manager, users `admin` and `viewer`); the warehouse holds the seeded
ingestion runs (one record quarantined), three builds (the latest failed the gate) and two promotions.
Screenshots land in .local/screenshots/ (`make ui-screenshots` copies them to docs/img/).
"""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest
import requests

from game_market_pipeline.config.loader import load_config
from tests.ui import seed
from tests.ui.conftest import SCREENSHOT_DIR

pytestmark = [pytest.mark.integration, pytest.mark.ui]
ROLLBACK_SECONDS = 90


def _page(browser, server, user: str = "admin"):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "_token", "value": server.token(user), "url": server.url}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def _rollback_runs(server) -> int:
    response = requests.get(
        f"{server.url}/api/v2/dags/rollback_warehouse/dagRuns",
        headers={"Authorization": f"Bearer {server.token('admin')}"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["total_entries"]


def test_anonymous_requests_are_refused(airflow_server):
    assert requests.get(f"{airflow_server.url}/data-health/", timeout=10).status_code == 401
    posted = requests.post(
        f"{airflow_server.url}/data-health/rollback", data={"confirm": "ROLLBACK"}, timeout=10
    )
    assert posted.status_code == 401


def test_a_viewer_reads_the_page_but_cannot_roll_back(airflow_server, ui_warehouse_url):
    warehouse_url = ui_warehouse_url
    headers = {"Authorization": f"Bearer {airflow_server.token('viewer')}"}
    requests.get(f"{airflow_server.url}/data-health/", headers=headers, timeout=10)  # builds the app
    started = time.perf_counter()
    page = requests.get(f"{airflow_server.url}/data-health/", headers=headers, timeout=10)
    assert time.perf_counter() - started < 1.0, "the page took a second or more"
    assert page.status_code == 200 and "FAILED" in page.text
    assert 'id="rollback"' not in page.text and "may not trigger" in page.text
    assert (
        requests.get(f"{airflow_server.url}/data-health/rollback", headers=headers, timeout=10).status_code
        == 403
    )
    posted = requests.post(
        f"{airflow_server.url}/data-health/rollback",
        headers=headers,
        data={"confirm": "ROLLBACK", "expected_build_id": seed.BUILD_1},
        timeout=10,
    )
    assert posted.status_code == 403
    assert _rollback_runs(airflow_server) == 0
    assert seed.production_build(warehouse_url) == seed.BUILD_2


def test_a_cross_site_post_is_refused_even_for_an_admin(airflow_server, ui_warehouse_url):
    posted = requests.post(
        f"{airflow_server.url}/data-health/rollback",
        headers={"Authorization": f"Bearer {airflow_server.token('admin')}", "Origin": "http://evil.example"},
        data={"confirm": "ROLLBACK", "expected_build_id": seed.BUILD_1},
        timeout=10,
    )
    assert posted.status_code == 403
    assert _rollback_runs(airflow_server) == 0
    assert seed.production_build(ui_warehouse_url) == seed.BUILD_2


def test_an_unconfirmed_rollback_triggers_nothing(airflow_server, ui_warehouse_url):
    posted = requests.post(
        f"{airflow_server.url}/data-health/rollback",
        headers={"Authorization": f"Bearer {airflow_server.token('admin')}"},
        data={"confirm": "yes", "expected_build_id": seed.BUILD_1},
        timeout=10,
    )
    assert posted.status_code == 400 and "nothing was triggered" in posted.text
    assert _rollback_runs(airflow_server) == 0


def test_dag_list_shows_every_generated_dag(airflow_server, browser):
    expected = [e.dag_id for e in load_config().endpoints] + [
        "transform_warehouse",
        "rollback_warehouse",
        "watch_source_freshness",
    ]
    page = _page(browser, airflow_server)
    page.goto(f"{airflow_server.url}/dags?limit=100")
    page.get_by_text(f"{len(expected)} Dags", exact=True).wait_for()  # these and no other
    for dag_id in expected:
        page.get_by_text(dag_id, exact=True).first.wait_for()
    page.screenshot(path=SCREENSHOT_DIR / "dag-list.png")
    page.context.close()


def test_data_health_in_the_ui_shows_gate_verdict_and_quarantined_records(airflow_server, browser):
    seeded = airflow_server.seeded
    page = _page(browser, airflow_server)
    page.goto(f"{airflow_server.url}/")
    page.get_by_role("link", name="Data health").first.click()  # the plugin's navigation entry
    frame = page.frame_locator("iframe").first
    verdict = frame.locator("#gate-verdict")
    verdict.wait_for()
    assert "FAILED" in verdict.inner_text() and seed.BUILD_3 in verdict.inner_text()
    checks = frame.locator("table.checks")
    assert seed.FAILING_ERROR_CHECK in checks.inner_text() and seed.FAILING_WARN_CHECK in checks.inner_text()
    quarantined = frame.locator('table.quarantine tr[data-endpoint="rawg.genres"]')
    assert quarantined.count() == 1
    assert seeded.quarantined_s3_prefix in quarantined.inner_text()
    ingestion = frame.locator('table.ingestion tr[data-endpoint="rawg.genres"]').inner_text()
    assert "loaded" in ingestion and "19" in ingestion
    api_calls = frame.locator('table.ingestion tr[data-endpoint="rawg.genres"] td.num').nth(3)
    assert api_calls.inner_text() == "1"
    page.screenshot(path=SCREENSHOT_DIR / "data-health-in-ui.png", full_page=True)
    # A run's link takes the UI (not the frame) to that run's task.
    frame.locator('table.ingestion tr[data-endpoint="rawg.genres"] a', has_text=str(seed.DAY_2)).click()
    target = f"/dags/ingest__rawg__genres/runs/{seed.ingest_run_id(seed.DAY_2)}/tasks/load_to_staging"
    page.wait_for_url(lambda url: unquote(url).endswith(target), wait_until="commit")
    page.get_by_text("load_to_staging").first.wait_for()  # the UI's own page of the task
    page.context.close()


def test_rollback_asks_for_confirmation_then_production_changes_back(
    airflow_server, browser, ui_warehouse_url
):
    warehouse_url = ui_warehouse_url
    page = _page(browser, airflow_server)
    page.goto(f"{airflow_server.url}/data-health/")
    assert seed.BUILD_2 in page.locator("#production-build").inner_text()
    page.screenshot(path=SCREENSHOT_DIR / "data-health.png", full_page=True)

    page.locator("#rollback").click()
    page.locator("#rollback-form").wait_for()
    assert "Type ROLLBACK to confirm" in page.inner_text("body")
    page.locator("body").screenshot(path=SCREENSHOT_DIR / "rollback-confirmation.png")
    # Asking is not doing: nothing was triggered by the first click.
    assert _rollback_runs(airflow_server) == 0 and seed.production_build(warehouse_url) == seed.BUILD_2

    page.fill("#confirm", "ROLLBACK")
    page.fill("#reason", "browser test")
    page.locator("#confirm-rollback").click()
    result = page.locator("#rollback-result")
    result.wait_for()
    assert "triggered" in result.inner_text(), result.inner_text()

    deadline = time.monotonic() + ROLLBACK_SECONDS
    while seed.production_build(warehouse_url) != seed.BUILD_1:
        assert time.monotonic() < deadline, "the rollback run did not finish:\n" + airflow_server.log_tail()
        time.sleep(1)
    page.goto(f"{airflow_server.url}/data-health/")
    production = page.locator("#production-build").inner_text()
    assert seed.BUILD_1 in production and "rolled back to" in production
    assert "rollback" in page.locator("table.promotions").inner_text()
    page.context.close()


def test_assets_carry_readable_names_and_keep_their_uris(airflow_server):
    response = requests.get(
        f"{airflow_server.url}/api/v2/assets?limit=100",
        headers={"Authorization": f"Bearer {airflow_server.token('viewer')}"},
        timeout=10,
    )
    response.raise_for_status()
    assets = {a["name"]: a["uri"] for a in response.json()["assets"]}
    warehouse = "postgres://warehouse:5432/warehouse"
    assert assets["raw.rawg__games"] == f"{warehouse}/raw/rawg__games"
    assert assets["raw.rawg (any table)"] == f"{warehouse}/raw/_rawg"
    assert assets["analytics (production)"] == f"{warehouse}/analytics/_build"
    assert not [name for name in assets if name.startswith("postgres://")]
