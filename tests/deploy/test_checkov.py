"""checkov over terraform/ and the Dockerfile: zero failed checks, every skip justified.

checkov runs from its own virtualenv (.venv-checkov, `make checkov-venv`): it pins a boto3 that
breaks the Amazon provider in .venv. The test creates that virtualenv itself and skips only when
pip cannot install checkov (e.g. no package index reachable).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
# A full scan takes ~10-20 s on two cores; this bound only catches a hung or runaway scan.
SCAN_SECONDS_LIMIT = 240


@pytest.fixture(scope="module")
def checkov() -> Path:
    make = shutil.which("make")
    if make is None:
        pytest.skip("`make` is not available to run `make checkov-venv`")
    result = subprocess.run(
        [make, "-s", "checkov-venv"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0 or not CHECKOV.exists():
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        pytest.skip(f"pip could not install checkov into .venv-checkov (`make checkov-venv` failed):\n{tail}")
    return CHECKOV


def run_checkov(checkov: Path, *args: str) -> tuple[list[dict[str, Any]], float]:
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "WARNING", "CHECKOV_NO_OUTPUT_TRUNCATE": "1"}
    started = time.monotonic()
    result = subprocess.run(
        [str(checkov), *args, "--skip-download", "--compact", "-o", "json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCAN_SECONDS_LIMIT + 60,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.stdout.strip(), (
        f"checkov printed nothing (exit {result.returncode}):\n{result.stderr[-3000:]}"
    )
    reports = json.loads(result.stdout)
    return (reports if isinstance(reports, list) else [reports]), elapsed


def assert_clean(reports: list[dict[str, Any]], min_resources: int) -> None:
    assert reports, "checkov produced no report"
    for report in reports:
        summary = report["summary"]
        failed = report["results"].get("failed_checks", [])
        listing = "\n".join(
            f"{f['check_id']} {f['resource']} {f['file_path']}:{f['file_line_range']} {f['check_name']}"
            for f in failed
        )
        assert summary["failed"] == 0, f"checkov failed checks:\n{listing}"
        assert summary["parsing_errors"] == 0, (
            f"checkov could not parse: {report['results'].get('parsing_errors')}"
        )
        assert summary["resource_count"] >= min_resources, (
            f"checkov scanned only {summary['resource_count']} resources"
        )
        for skipped in report["results"].get("skipped_checks", []):
            reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
            assert len(reason.strip()) >= 20, (
                f"{skipped['check_id']} on {skipped['resource']} is skipped without a reason"
            )


def test_checkov_terraform_has_no_failed_check(checkov: Path) -> None:
    reports, elapsed = run_checkov(checkov, "-d", "terraform", "--framework", "terraform")
    assert_clean(reports, min_resources=100)
    assert elapsed < SCAN_SECONDS_LIMIT, f"checkov took {elapsed:.0f}s"
    print(f"checkov terraform: {reports[0]['summary']} in {elapsed:.1f}s")


def test_checkov_dockerfile_has_no_failed_check(checkov: Path) -> None:
    reports, _ = run_checkov(checkov, "-f", "Dockerfile", "--framework", "dockerfile")
    assert_clean(reports, min_resources=1)


def test_make_help_lists_the_deploy_targets() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("`make` is not available")
    out = subprocess.run(
        [make, "help"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for target in ("checkov-venv", "deploy-check", "checkov", "tf-fmt"):
        assert f"make {target} " in out, target
