"""The environment Airflow runs with locally (`make run`, `make ui`, integration tests).

Airflow's own metadata lives in a database `airflow_meta` on the local stack's PostgreSQL (the
embedded one unless GMP_AIRFLOW_META_URL is given); connections come from AIRFLOW_CONN_* variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gmp_dev.local import stack

AIRFLOW_META_DB = "airflow_meta"


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def airflow_environment(
    state_dir: Path = stack.STATE_DIR,
    extra: dict[str, str] | None = None,
    base_env: dict[str, str] | None = None,
) -> dict[str, str]:
    """Airflow's environment over `base_env` (default: this process's); connections already set are kept."""
    env = dict(os.environ if base_env is None else base_env)
    env.update(stack.connection_env(state_dir, env))
    meta_url = env.get("GMP_AIRFLOW_META_URL") or stack.ensure_database(
        stack.start_postgres(state_dir).url, AIRFLOW_META_DB
    )
    home = state_dir / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(stack.PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(stack.PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url.replace(
                "postgresql://", "postgresql+psycopg2://", 1
            ),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO"),
            "AIRFLOW__API__HOST": stack.LOOPBACK,
            "AIRFLOW__API__PORT": env.get("AIRFLOW__API__PORT", "8080"),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": env.get(
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True"
            ),
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "NO_PROXY": "*",
            # As on the cluster (helm/values.yaml): scheduled runs start without unpausing by hand.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            # Local runs make no call to the internet (Cosmos would send telemetry otherwise).
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        }
    )
    env.update(extra or {})
    return env


def prepare_airflow(env: dict[str, str], quiet: bool = True) -> None:
    """Migrate the metadata DB, sync the pools the config declares, create the lake bucket if missing."""
    out = subprocess.DEVNULL if quiet else None
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, stdout=out)
    # The same pools the cluster gets from the scheduler's init container (helm/values.yaml).
    subprocess.run([str(Path(airflow_bin()).with_name("gmp-pools")), "sync"], env=env, check=True, stdout=out)
    ensure_lake_bucket(env)


def ensure_lake_bucket(env: dict[str, str]) -> str:
    import json

    import boto3

    from game_market_pipeline.config.loader import load_config

    config = load_config()
    bucket = env.get("LAKE_BUCKET") or (config.config.lake.bucket if config.config else "game-market-lake")
    conn = (
        json.loads(env["AIRFLOW_CONN_LAKE_S3"]) if env.get("AIRFLOW_CONN_LAKE_S3", "").startswith("{") else {}
    )
    extra = conn.get("extra") or {}
    if isinstance(extra, str):
        extra = json.loads(extra)
    client = boto3.client(
        "s3",
        endpoint_url=extra.get("endpoint_url"),
        region_name=extra.get("region_name"),
        aws_access_key_id=conn.get("login"),
        aws_secret_access_key=conn.get("password"),
    )
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        client.create_bucket(Bucket=bucket)
    return bucket
