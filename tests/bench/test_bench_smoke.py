"""The benchmark harness at a tiny size, so it cannot rot: every system (ours, dlt in its own
virtualenv, both limits), the latency, re-run, parse and transform sections, one repetition.
Asserts the structure of the results and that every system landed every record; never speed."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.common import BENCH_PY, BENCH_VENV, ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]
RECORDS = 200


def _bench_venv() -> None:
    """Create (once, then cached) the dlt virtualenv `make bench-venv` makes; skip only if pip cannot."""
    proc = subprocess.run(
        ["make", "--no-print-directory", "bench-venv"], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0 or not BENCH_PY.exists():
        pytest.skip(f"pip could not install dlt into {BENCH_VENV}: {(proc.stderr or proc.stdout)[-800:]}")


def test_bench_harness_at_a_tiny_size(pg_server_url: str, tmp_path: Path) -> None:
    _bench_venv()
    out = tmp_path / "results.json"
    database = f"gmp_bench_smoke_{uuid.uuid4().hex[:8]}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--size",
            str(RECORDS),
            "--sizes",
            str(RECORDS),
            "--reps",
            "1",
            "--latency-size",
            str(RECORDS),
            "--latency-ms",
            "5",
            "--rps",
            "200",
            "--parse-endpoints",
            "30",
            "--dbt-size",
            str(RECORDS),
            "--pg-admin-url",
            pg_server_url,
            "--database",
            database,
            "--out",
            str(out),
            "--no-report",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    runs = data["runs"]
    assert data["machine"]["cores"] >= 1 and data["commands"]

    for system in ("ours", "dlt_default", "dlt_nesting0", "limit_http", "limit_copy"):
        (run,) = runs[f"throughput/{system}/{RECORDS}"]
        assert run["records"] == RECORDS and run["rows_landed"] == RECORDS, (system, run)
        assert run["seconds"] > 0 and run["peak_rss_mib"] > 0
    assert (
        runs[f"throughput/dlt_default/{RECORDS}"][0]["result"]["tables"]
        > runs[f"throughput/dlt_nesting0/{RECORDS}"][0]["result"]["tables"]
    )  # child tables vs JSON columns
    assert runs[f"throughput/ours/{RECORDS}"][0]["api_calls"] == RECORDS // 40

    (rerun,) = runs[f"throughput/rerun/{RECORDS}"]
    assert rerun["api_calls"] == 0 and rerun["status"] == "skipped_already_loaded"

    for system in ("ours", "dlt_nesting0"):
        (run,) = runs[f"latency/{system}/{RECORDS}"]
        assert run["rows_landed"] == RECORDS
    assert data["latency_setup"]["bound_records_per_s"] == 40 * 200

    for label in ("real", "30_endpoints"):
        (bag,) = runs[f"parse/dagbag/{label}"]
        (single,) = runs[f"parse/single/{label}"]
        assert not bag["import_errors"], bag["import_errors"]
        assert single["dags"] == ["ingest__rawg__games"]
        (marginal,) = runs[f"parse/single-marginal/{label}"]
        assert marginal["dags"] == ["ingest__rawg__games"] and marginal["task_imports_seconds"] > 0
        # The marginal figure's premise: the plain build imports the S3 hook itself (Airflow's Asset
        # URI handler discovery), the marginal one finds it already imported.
        assert single["s3_hook_loaded"] == {"before_build": False, "after_build": True}
        assert marginal["s3_hook_loaded"] == {"before_build": True, "after_build": True}
    assert runs["parse/dagbag/30_endpoints"][0]["dags"] > runs["parse/dagbag/real"][0]["dags"]

    (full,) = runs[f"dbt/full/{RECORDS}"]
    (incremental,) = runs[f"dbt/incremental/{RECORDS}"]
    assert full["seconds"] > 0 and incremental["changed"] == RECORDS // 100

    from bench.report import render, write_results_md

    text = render(data)
    assert "### Targets" in text and "dlt rest_api" in text
    # A second run (another VM) renders into its own named block; the prose and the main block stay.
    md = tmp_path / "RESULTS.md"
    md.write_text("# Benchmark results\n\nprose kept\n")
    write_results_md(data, md)
    write_results_md(data, md, block="second-vm")
    write_results_md(data, md, block="second-vm")  # re-rendered in place, not appended again
    text = md.read_text()
    assert (
        text.count("<!-- generated:start -->") == 1 and text.count("<!-- generated:second-vm:start -->") == 1
    )
    assert "prose kept" in text and text.count("### Targets") == 2

    import psycopg2

    conn = psycopg2.connect(pg_server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in (database, f"{database}_dbt"):
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()
