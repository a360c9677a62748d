"""Pytest fixtures for the replay server (the four APIs over real HTTP on 127.0.0.1).

Enable from the root conftest with `pytest_plugins = ["tests.fixtures_replay"]`.

- `replay_server` (session): a `ReplayServer` started in a thread of the test process, default
  corpus, RAWG key `REPLAY_RAWG_KEY`. Tests that arm faults or read stats should use
  `clean_replay_server`, which resets faults, stats and latency before and after the test.
- `replay_connections` (session): `AIRFLOW_CONN_<SOURCE>_API` values (JSON) pointing at it, for
  tests that run DAGs or hooks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gmp_dev.replay.server import ReplayServer

# The suite's one distinctive fake key (tests/conftest.py): tests assert it never lands in S3,
# Postgres or logs, and the replay server echoes it in `next` URLs like RAWG does.
from tests.conftest import FAKE_RAWG_KEY as REPLAY_RAWG_KEY


def start_replay_server(**options: Any) -> ReplayServer:
    """A started in-process replay server (free port); the caller stops it."""
    options.setdefault("rawg_key", REPLAY_RAWG_KEY)
    return ReplayServer(**options).start()


def replay_connection_env(server: ReplayServer) -> dict[str, str]:
    env = {}
    for source in ("rawg", "tcgdex", "pokemontcg", "pokeapi"):
        conn: dict[str, Any] = {"conn_type": "http", "host": server.base_url(source)}
        if source == "rawg":
            conn["password"] = server.rawg_key
        env[f"AIRFLOW_CONN_{source.upper()}_API"] = json.dumps(conn)
    return env


@pytest.fixture(scope="session")
def replay_server() -> Iterator[ReplayServer]:
    server = start_replay_server()
    yield server
    server.stop()


@pytest.fixture
def clean_replay_server(replay_server: ReplayServer) -> Iterator[ReplayServer]:
    replay_server.reset()
    yield replay_server
    replay_server.reset()


@pytest.fixture(scope="session")
def replay_connections(replay_server: ReplayServer) -> dict[str, str]:
    return replay_connection_env(replay_server)
