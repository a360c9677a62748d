"""Run DAGs with `dag.test()` on request, in ONE long-lived process (started by airflow_session.py).

`airflow dags test` starts Airflow's in-process execution API for every invocation (several seconds
each on a 2-core machine); one process serving several runs pays that once. Protocol: one JSON object
per line on stdin (`{"dag_id": ..., "scenario": ..., "conf": {...}}`); the answer
(`{"dag_id", "run_id", "state", "tasks": {task_id: state}}`) is written to `<results_dir>/<n>.json`
(Airflow's logs go to this process's stdout, so answers do not share it).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    results_dir = Path(sys.argv[1])

    @providers_configuration_loaded
    def run(step: dict) -> dict:
        os.environ["WAP_TEST_SCENARIO"] = step.get("scenario", "good")
        dag = get_bagged_dag(bundle_names=None, dag_id=step["dag_id"])
        dag_run = dag.test(run_conf=step.get("conf"))
        tasks = {
            ti.task_id: str(ti.state.value if hasattr(ti.state, "value") else ti.state)
            for ti in dag_run.get_task_instances()
        }
        state = dag_run.state.value if hasattr(dag_run.state, "value") else str(dag_run.state)
        return {"dag_id": step["dag_id"], "run_id": dag_run.run_id, "state": state, "tasks": tasks}

    for number, line in enumerate(sys.stdin):
        try:
            answer = run(json.loads(line))
        except Exception as err:  # noqa: BLE001 - reported to the test, which fails with it
            answer = {"error": repr(err)}
        partial = results_dir / f"{number}.json.part"
        partial.write_text(json.dumps(answer))
        partial.rename(results_dir / f"{number}.json")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
