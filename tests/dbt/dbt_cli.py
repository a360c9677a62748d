"""Run the project's dbt (the venv's executable, in a subprocess, like Cosmos does) against a test database."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gmp_dev.run_dbt import dbt_command, dbt_env


def profile_env(pg_url: str, schema: str) -> dict[str, str]:
    """The environment profiles.yml reads (host, port, user, password, dbname, schema), two threads."""
    return {**dbt_env(pg_url, schema), "GMP_DBT_THREADS": "2", "DO_NOT_TRACK": "1"}


@dataclass
class DbtRun:
    args: list[str]
    returncode: int
    output: str
    seconds: float
    target_path: Path

    @property
    def run_results(self) -> dict[str, Any]:
        return json.loads((self.target_path / "run_results.json").read_text())

    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.run_results["results"]}


def run_dbt(args: list[str], *, pg_url: str, schema: str, work_dir: Path, check: bool = True) -> DbtRun:
    """`dbt <args>` into `schema`; target and logs under `work_dir` (partial parsing kept per schema)."""
    target_path = work_dir / f"target-{schema}"
    log_path = work_dir / f"logs-{schema}"
    env = {**os.environ, **profile_env(pg_url, schema)}
    command = dbt_command(args, "--target-path", str(target_path), "--log-path", str(log_path))
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    run = DbtRun(
        args, result.returncode, result.stdout + result.stderr, time.perf_counter() - started, target_path
    )
    print(f"dbt {' '.join(args)} [{schema}]: {run.seconds:.1f}s, exit {run.returncode}")
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{run.output[-6000:]}")
    return run
