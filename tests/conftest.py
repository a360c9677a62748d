"""Shared fixtures: a real Postgres, a real S3 endpoint over HTTP, the replay server over HTTP.

Postgres: `GMP_TEST_PG_URL` (e.g. the CI machine's PostgreSQL 15) if set, else an embedded
PostgreSQL started under `.local/test-stack`. Each test session gets a fresh database.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# Airflow reads these at import: keep test runs away from ~/airflow and the example DAGs.
os.environ.setdefault("AIRFLOW_HOME", str(PROJECT_ROOT / ".local" / "test-airflow"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_ROOT / "dags"))

from gmp_dev.local import stack  # noqa: E402

pytest_plugins = ["tests.fixtures_replay"]
TEST_STATE_DIR = Path(os.environ.get("GMP_TEST_STATE_DIR", PROJECT_ROOT / ".local" / "test-stack"))
# A distinctive fake RAWG key: tests assert it never lands anywhere.
FAKE_RAWG_KEY = "sekrit-rawg-key-0123456789abcdef"


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = os.environ.get("GMP_TEST_PG_URL")
    if url:
        return url
    return stack.start_postgres(TEST_STATE_DIR).url


def _new_database(pg_server_url: str) -> Iterator[str]:
    import psycopg2
    from psycopg2 import sql

    name = f"gmp_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(pg_server_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = pg_server_url.rpartition("/")
    yield f"{base}/{name}"
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    admin.close()


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a database created for this test session and dropped after it."""
    yield from _new_database(pg_server_url)


@pytest.fixture
def fresh_pg_url(pg_server_url: str) -> Iterator[str]:
    """URL of a database of this test alone (nothing another test loaded can change its counts)."""
    yield from _new_database(pg_server_url)


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3 server over real HTTP on loopback."""
    return stack.start_moto(TEST_STATE_DIR).url


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    import boto3

    name = f"lake-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=name)
    return name


def pg_conn_json(url: str) -> str:
    """An Airflow connection JSON for a postgresql:// URL."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    conn = {
        "conn_type": "postgres",
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "login": unquote(parsed.username or "postgres"),
        "schema": parsed.path.lstrip("/") or "postgres",
    }
    if parsed.password:
        conn["password"] = unquote(parsed.password)
    return json.dumps(conn)


def s3_conn_json(endpoint: str) -> str:
    return json.dumps(
        {
            "conn_type": "aws",
            "login": "test",
            "password": "test",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    )
