"""`make ui`: Airflow itself on the local stack — API server (UI) on 127.0.0.1:8080, scheduler,
dag-processor and triggerer — so the generated DAGs can be browsed, triggered and left to run on
their schedules. Ctrl-C stops Airflow; `make stop-local` stops the stack's servers.

"Data health" in the UI's navigation (plugins/data_health.py) shows what `make run` left in the
warehouse: ingestion per endpoint, the quality gate, production and its rollback, the quarantine
(docs/OPERATIONS.md is the tour).

Login: the simple auth manager runs with "all admins" locally, so the UI opens without a password.
Set AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=False to get a login page; the generated
admin password is then in .local/airflow/simple_auth_manager_passwords.json.generated.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from gmp_dev.local.airflow_env import airflow_bin, airflow_environment, prepare_airflow


def components(port: str) -> tuple[list[str], ...]:
    # --skip-serve-logs: Airflow's log server binds every interface (hard-coded); locally the API
    # server reads task logs straight from AIRFLOW_HOME/logs, so nothing needs serving at all.
    return (
        ["api-server", "--host", "127.0.0.1", "--port", port],
        ["scheduler", "--skip-serve-logs"],
        ["dag-processor"],
        ["triggerer", "--skip-serve-logs"],
    )


def main() -> int:
    env = airflow_environment()
    prepare_airflow(env)
    # Each component leads its own process group so stopping it stops its workers too.
    procs = [
        subprocess.Popen([airflow_bin(), *args], env=env, start_new_session=True)
        for args in components(env["AIRFLOW__API__PORT"])
    ]
    base = f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}"
    print(f"Airflow UI: {base}  (Ctrl-C to stop)\nData health: {base}/plugin/data-health", flush=True)

    def stop(*_: object) -> None:
        for proc in procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except OSError:
                pass
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(proc.poll() is None for proc in procs):
        time.sleep(1)
    stop()
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
