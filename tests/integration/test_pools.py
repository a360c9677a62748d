"""`gmp-pools sync` on a real Airflow metadata DB (PostgreSQL, migrated by Airflow itself).

The scheduler never schedules a task whose pool does not exist, so after the sync every pool that
any task of any generated DAG names must exist, with the slots the config declares.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _new_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]
BIN = Path(sys.executable).parent
DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"

# Prints {"missing": [...], "slots": {pool: slots}} for the DAGs in the dags folder.
POOLS_OF_DAGS = """
import json
from airflow.dag_processing.dagbag import DagBag
from airflow.models.pool import Pool

bag = DagBag(dag_folder={folder!r})
assert not bag.import_errors, bag.import_errors
named = {{task.pool for dag in bag.dags.values() for task in dag.tasks}}
existing = {{pool.pool: pool.slots for pool in Pool.get_pools()}}
print(json.dumps({{"missing": sorted(named - set(existing)), "slots": existing, "dags": len(bag.dags)}}))
"""


@pytest.fixture(scope="module")
def airflow_metadata_env(tmp_path_factory, pg_server_url) -> Iterator[dict[str, str]]:
    """One migrated metadata DB for the module (a migration takes ~30 s); the first test sees it fresh."""
    databases = _new_database(pg_server_url)
    url = next(databases)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path_factory.mktemp("airflow")),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": url.replace("postgresql://", "postgresql+psycopg2://", 1),
    }
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
    yield env
    next(databases, None)


def _pools_of_dags(env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", POOLS_OF_DAGS.format(folder=str(DAGS_FOLDER))],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_after_the_sync_every_pool_the_generated_dags_name_exists(airflow_metadata_env) -> None:
    from game_market_pipeline.config.loader import load_config
    from game_market_pipeline.pools import desired_pools

    before = _pools_of_dags(airflow_metadata_env)
    # A fresh metadata DB has only default_pool: every ingestion task would wait forever.
    assert before["missing"], "expected missing pools before the sync"
    assert before["dags"] >= 14

    sync = subprocess.run(
        [str(BIN / "gmp-pools"), "sync"], env=airflow_metadata_env, capture_output=True, text=True, check=True
    )
    declared = {spec.name: spec.slots for spec in desired_pools(load_config())}
    assert sync.stdout.count("created ") == len(declared), sync.stdout

    after = _pools_of_dags(airflow_metadata_env)
    assert after["missing"] == []
    assert {name: after["slots"][name] for name in declared} == declared

    again = subprocess.run(
        [str(BIN / "gmp-pools"), "sync"], env=airflow_metadata_env, capture_output=True, text=True, check=True
    )
    assert again.stdout.count("unchanged ") == len(declared), again.stdout


def test_the_sync_updates_slots_changed_in_the_config(airflow_metadata_env, tmp_path) -> None:
    import yaml

    from game_market_pipeline.config.loader import config_path

    config = yaml.safe_load(config_path().read_text())
    config["sources"][0]["pool_slots"] = 5
    changed = tmp_path / "endpoints.yaml"
    changed.write_text(yaml.safe_dump(config, sort_keys=False))
    pool = f"api_{config['sources'][0]['name']}"

    subprocess.run(
        [str(BIN / "gmp-pools"), "sync"], env=airflow_metadata_env, check=True, capture_output=True
    )
    result = subprocess.run(
        [str(BIN / "gmp-pools"), "sync", "--config", str(changed)],
        env=airflow_metadata_env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"updated (was 2 slots) {pool} (5 slots)" in result.stdout
    assert _pools_of_dags(airflow_metadata_env)["slots"][pool] == 5
