"""Airflow itself for the UI tests: API server (UI + plugins) and scheduler on loopback, login enabled.

The metadata database is a fresh database on the test Postgres server; the users are the simple auth
manager's `admin` (role admin) and `viewer` (role viewer), with passwords written before start-up.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import requests
from psycopg2 import sql

from gmp_dev.local import stack
from gmp_dev.local.airflow_env import airflow_bin, airflow_environment

USERS = {"admin": "admin", "viewer": "viewer"}  # user name -> simple auth manager role
START_TIMEOUT_SECONDS = 90


@dataclass
class AirflowServer:
    url: str
    env: dict[str, str]
    home: Path
    passwords: dict[str, str]
    logs: dict[str, Path] = field(default_factory=dict)
    seeded: Any = None

    def token(self, user: str) -> str:
        response = requests.post(
            f"{self.url}/auth/token",
            json={"username": user, "password": self.passwords[user]},
            timeout=10,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def log_tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {name} ---\n{path.read_text(errors='replace')[-chars:]}"
            for name, path in self.logs.items()
            if path.exists()
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((stack.LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextmanager
def metadata_database(pg_server_url: str) -> Iterator[str]:
    name = f"gmp_test_airflow_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{pg_server_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.close()


def _wait_healthy(url: str, procs: dict[str, subprocess.Popen], server: AirflowServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"airflow {name} exited with {proc.returncode}:\n{server.log_tail()}")
        try:
            if requests.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the API server did not answer within {START_TIMEOUT_SECONDS}s:\n{server.log_tail()}")


@contextmanager
def running_airflow(
    meta_url: str, home: Path, connections: dict[str, str], scheduler: bool = True
) -> Iterator[AirflowServer]:
    """`airflow db migrate`, then API server (+ scheduler) and `dags reserialize` until the block ends."""
    port = _free_port()
    passwords = {user: secrets.token_urlsafe(12) for user in USERS}
    home.mkdir(parents=True, exist_ok=True)
    passwords_file = home / "simple_auth_manager_passwords.json"
    passwords_file.write_text(json.dumps(passwords))
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    base.update(connections)
    base["GMP_AIRFLOW_META_URL"] = meta_url
    env = airflow_environment(
        home.parent,
        base_env=base,
        extra={
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{stack.LOOPBACK}:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:{r}" for u, r in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
            # One secret for every component: the scheduler's task tokens must verify in the API server.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        },
    )
    server = AirflowServer(f"http://{stack.LOOPBACK}:{port}", env, home, passwords)
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True)
    components = {
        "api-server": ["api-server", "--host", stack.LOOPBACK, "--port", str(port)],
        # Serializes every DAG up front (the DAG list must show them all); runs beside the servers'
        # start-up rather than before it, which saves most of its time.
        "reserialize": ["dags", "reserialize"],
    }
    if scheduler:
        components["scheduler"] = ["scheduler", "--skip-serve-logs"]
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, args in components.items():
            server.logs[name] = home / f"{name}.log"
            log = open(server.logs[name], "wb")  # noqa: SIM115 - the child owns it
            procs[name] = subprocess.Popen(
                [airflow_bin(), *args], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        reserialize = procs.pop("reserialize")
        if reserialize.wait(timeout=START_TIMEOUT_SECONDS) != 0:
            raise RuntimeError(f"airflow dags reserialize failed:\n{server.log_tail()}")
        _wait_healthy(server.url, procs, server)
        yield server
    finally:
        _stop(procs)


def _stop(procs: dict[str, subprocess.Popen], grace_seconds: float = 5.0) -> None:
    for proc in procs.values():
        try:  # each component leads its own process group (its workers stop with it)
            os.killpg(proc.pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + grace_seconds
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            # Test servers hold nothing worth a graceful shutdown beyond a few seconds.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
