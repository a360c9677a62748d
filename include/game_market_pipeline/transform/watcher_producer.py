"""The producer of the transform DAG: ONE `dbt build`, its results in ONE XCom document.

Cosmos' watcher producer (`DbtProducerWatcherOperator`) turns each of dbt's ~1,400 events of a build into
JSON (protobuf `MessageToJson`, in dbt's threads) and pushes one to five XComs per node (812 pushes for
350 nodes), under a process-wide lock. This one keeps Cosmos' way of running dbt (project copy, profile
from the Airflow connection, partial-parse cache, dbtRunner in-process, the run_results callback) and
replaces what happens around it:

- dbt's events reach a callback that reads two protobuf fields of `NodeFinished` events only (no JSON)
  and records the node's status in a `NodeResults` (transform.node_results);
- one XCom document per build: a checkpoint at most every `checkpoint_seconds` (from the callback, when
  a node finishes) and the final one, `done`, when the build ends — also when dbt failed;
- dbt runs with `--quiet --log-level-file none`: no line per node on stdout and no dbt.log in the
  temporary project (thrown away after the task); the task's log gets one line per node that did not
  pass, a progress line per checkpoint and dbt's own errors (which `--quiet` keeps);
- no retry: `retries=0` is enforced by the wiring, and a retry would be skipped as in Cosmos (a failed
  model is re-run by its own task's retry, alone).
"""

from __future__ import annotations

import time
from typing import Any

from cosmos.airflow.compatibility import AirflowSkipException
from cosmos.operators._watcher.state import safe_xcom_push
from cosmos.operators.watcher import DbtProducerWatcherOperator

from game_market_pipeline.transform.node_results import NODE_RESULTS_XCOM_KEY, NODE_SUCCESS, NodeResults

CHECKPOINT_SECONDS = 10.0
NOT_A_FAILURE = NODE_SUCCESS | {"warn"}


class NodeResultsProducer(DbtProducerWatcherOperator):
    """`dbt build` of the whole project; node statuses pushed as one document (see the module docstring)."""

    checkpoint_seconds = CHECKPOINT_SECONDS

    def execute(self, context: Any, **kwargs: Any) -> Any:
        ti = context["ti"]
        if getattr(ti, "try_number", 1) > 1:
            raise AirflowSkipException(
                f"{self.task_id} never re-runs the whole build: each failed model's "
                "task re-runs that model alone"
            )
        self._results = NodeResults(self.tests_per_model)
        self._last_push = time.monotonic()
        self._ti = ti
        try:
            # Cosmos' local execution (project copy, profile, dbtRunner, callback), without the watcher's
            # per-event XCom handling of DbtProducerWatcherOperator.execute.
            return super(DbtProducerWatcherOperator, self).execute(context, **kwargs)
        finally:
            self._push(done=True)
            self.log.info(
                "dbt build: %d node(s) finished; results pushed to XCom %r",
                self._results.finished,
                NODE_RESULTS_XCOM_KEY,
            )

    def add_cmd_flags(self) -> list[str]:
        # --quiet: only errors on stdout; --log-level-file none: no logs/dbt.log in the temporary
        # project. Each added unless the flags already set it (a flag and its value go together).
        flags = list(super().add_cmd_flags())
        if "--quiet" not in flags:
            flags.append("--quiet")
        if "--log-level-file" not in flags:
            flags += ["--log-level-file", "none"]
        return flags

    def run_dbt_runner(self, command: list[str], env: dict[str, str], cwd: str, **kwargs: Any) -> Any:
        self._dbt_runner_callbacks = [self._on_dbt_event]
        # DbtLocalBaseOperator's dbtRunner call, without Cosmos' JSON-per-event watcher callback
        return super(DbtProducerWatcherOperator, self).run_dbt_runner(command, env, cwd, **kwargs)

    def run_subprocess(self, command: list[str], env: dict[str, str], cwd: str, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{self.task_id} runs dbt in-process (InvocationMode.DBT_RUNNER) only")

    def _on_dbt_event(self, event: Any) -> None:
        """dbt's callback, in dbt's threads: must never raise (dbt would turn it into a node error)."""
        try:
            if event.info.name != "NodeFinished":
                return
            node = event.data.node_info
            unique_id, status = node.unique_id, node.node_status
            self._results.record(unique_id, status)
            if status not in NOT_A_FAILURE:
                self.log.warning("dbt %s: %s", unique_id, status)
            if time.monotonic() - self._last_push >= self.checkpoint_seconds:
                self._last_push = time.monotonic()
                self._push(done=False)
                self.log.info("dbt build: %d node(s) finished so far", self._results.finished)
        except Exception:  # noqa: BLE001 - a broken checkpoint must not fail a model; the final push reports
            self.log.exception("recording a dbt event failed")

    def _push(self, done: bool) -> None:
        safe_xcom_push(task_instance=self._ti, key=NODE_RESULTS_XCOM_KEY, value=self._results.document(done))
