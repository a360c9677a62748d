"""A private Airflow for DAG-run tests: SQLite metadata in a temporary home, a dags folder of the test's
choosing, and one long-lived `tests.quality.airflow_runner` process that runs DAGs on request.

Shared by test_publish_dag.py and test_transform_watcher_run.py, which differ only in their DAGs, their
environment and how long a run may take.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class AirflowSession:
    """Start with `start()`, run DAGs with `run()`, end with `stop()`."""

    def __init__(self, root: Path, dags: Path, env: dict[str, str]) -> None:
        self.home = root / "home"
        self.log_path = root / "airflow.log"
        self._results = root / "results"
        self._results.mkdir()
        self._env = {
            **os.environ,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home}/airflow.db",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
            **env,
        }
        self._steps = 0
        self._log: Any = None
        self._runner: subprocess.Popen[str] | None = None

    def start(self, unset: tuple[str, ...] = ()) -> AirflowSession:
        """Migrate the metadata DB and start the runner; `unset` names variables the runs must not see."""
        for name in unset:
            self._env.pop(name, None)
        subprocess.run([AIRFLOW, "db", "migrate"], env=self._env, check=True, capture_output=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self._runner = subprocess.Popen(
            [sys.executable, "-m", "tests.quality.airflow_runner", str(self._results)],
            env=self._env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        return self

    def run(
        self, request: dict[str, Any], timeout_seconds: float, poll_seconds: float = 0.1
    ) -> tuple[str, str, dict[str, str], str]:
        """One DAG run in the runner: (dag run state, run id, {task_id: state}, Airflow's log of this run)."""
        assert self._runner is not None and self._runner.stdin is not None, "start() the session first"
        number, self._steps = self._steps, self._steps + 1
        log_offset = self.log_path.stat().st_size
        self._runner.stdin.write(json.dumps(request) + "\n")
        self._runner.stdin.flush()
        answer_file = self._results / f"{number}.json"
        deadline = time.monotonic() + timeout_seconds
        while not answer_file.exists():
            assert self._runner.poll() is None, self.log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, f"the run of {request.get('dag_id')} did not finish in time"
            time.sleep(poll_seconds)
        answer = json.loads(answer_file.read_text())
        with open(self.log_path) as log:
            log.seek(log_offset)
            run_log = log.read()
        assert "error" not in answer, f"{answer}\n{run_log[-3000:]}"
        return answer["state"], answer["run_id"], answer["tasks"], run_log

    def stop(self, wait_seconds: float = 5) -> None:
        """End the runner; Airflow's exit handlers are slow, and the runs are all done, so it may be cut short."""
        if self._runner is not None:
            assert self._runner.stdin is not None
            self._runner.stdin.close()
            try:
                self._runner.wait(timeout=wait_seconds)
            except subprocess.TimeoutExpired:
                self._runner.terminate()
                self._runner.wait(timeout=10)
        if self._log is not None:
            self._log.close()
