"""The image, rehearsed without Docker: built by the Dockerfile's own steps, then `airflow dags
reserialize` in it must find every DAG with zero import errors (tests/deploy/image_rehearsal.py).

The first run after a dependency change installs the image's virtualenv (~2 minutes, cached in
.local/image-rehearsal/); later runs only lay out AIRFLOW_HOME and parse.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy import image_rehearsal as rehearsal

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def image() -> rehearsal.Image:
    return rehearsal.Image.from_dockerfile(rehearsal.DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def venv(image, tmp_path_factory) -> Path:
    log = tmp_path_factory.mktemp("rehearsal") / "install.log"
    try:
        return rehearsal.build_venv(image, log)
    except subprocess.CalledProcessError as error:
        pytest.fail(f"the image's install steps failed ({error}):\n{log.read_text()[-4000:]}")


def _airflow(venv: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "airflow"), *args], env=env, capture_output=True, text=True, timeout=300
    )


def _image_env(image, venv, root: Path, install_package: bool = True) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    image_env = rehearsal.lay_out(image, root, venv, root / "layout.log", install_package)
    home = Path(image_env["AIRFLOW_HOME"])
    return rehearsal.image_environment(
        venv,
        image_env,
        {
            # As on the cluster (helm/values.yaml), so the executor and auth manager must import.
            "AIRFLOW__CORE__EXECUTOR": "KubernetesExecutor",
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        },
    )


def _parse_errors(venv: Path, env: dict[str, str]) -> dict[str, str]:
    """Import errors of a plain DagBag parse in the image (no metadata DB needed)."""
    script = (
        "import json; from airflow.dag_processing.dagbag import DagBag; "
        "bag = DagBag(); print(json.dumps({'errors': bag.import_errors, 'dags': sorted(bag.dags)}))"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def _json_of(stdout: str):
    """The CLI's JSON answer: its last line (log lines such as a graphviz warning come before it)."""
    lines = stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else []


def expected_dag_ids() -> set[str]:
    from game_market_pipeline.config.loader import load_config

    config = load_config()
    return {endpoint.dag_id for endpoint in config.endpoints} | {
        "transform_warehouse",
        "rollback_warehouse",
        "watch_source_freshness",
    }


def test_reserialize_in_the_image_finds_every_dag_with_no_import_error(image, venv, tmp_path) -> None:
    env = _image_env(image, venv, tmp_path / "image")
    migrate = _airflow(venv, env, "db", "migrate")
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    reserialize = _airflow(venv, env, "dags", "reserialize")
    assert reserialize.returncode == 0, reserialize.stdout[-2000:] + reserialize.stderr[-3000:]
    errors = _airflow(venv, env, "dags", "list-import-errors", "-o", "json")
    assert errors.returncode == 0, errors.stderr[-2000:]
    assert _json_of(errors.stdout) == [], errors.stdout
    listed = _airflow(venv, env, "dags", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert {row["dag_id"] for row in _json_of(listed.stdout)} == expected_dag_ids()
    # The console script the scheduler's init container runs (helm/values.yaml) is in the image.
    assert (venv / "bin" / "gmp-pools").is_file()


def test_the_image_has_no_dev_tools(image, venv, tmp_path) -> None:
    # The local stack, the replay server (with its recordings) and the benchmarks stay out of the image:
    # not importable there, and no file of theirs in AIRFLOW_HOME.
    root = tmp_path / "image"
    env = _image_env(image, venv, root, install_package=False)
    script = (
        "import importlib.util, json; "
        "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in ('gmp_dev', 'bench', 'tests')}))"
    )
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script],
        env=env,
        cwd=root,  # not the checkout: `-c` puts the working directory on sys.path
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert found.returncode == 0, found.stderr[-2000:]
    assert json.loads(found.stdout.strip().splitlines()[-1]) == {
        "gmp_dev": False,
        "bench": False,
        "tests": False,
    }
    laid_out = [p.relative_to(root).as_posix() for p in root.rglob("*")]
    assert any(p.endswith("include/game_market_pipeline/__init__.py") for p in laid_out), laid_out[:20]
    assert [
        p for p in laid_out if p.split("/")[-1] in ("recordings", "gmp_dev", "run_dbt.py", "stack.py")
    ] == []


def test_a_missing_copy_breaks_the_rehearsal(image, venv, tmp_path) -> None:
    without_dbt = rehearsal.Image(
        **{**image.__dict__, "copies": [c for c in image.copies if c[0] != ["dbt/"]]}
    )
    parsed = _parse_errors(venv, _image_env(without_dbt, venv, tmp_path / "image", install_package=False))
    assert any("transform_warehouse" in path for path in parsed["errors"]) or (
        "transform_warehouse" not in parsed["dags"]
    ), parsed


def test_a_path_dockerignore_drops_breaks_the_rehearsal(image, venv, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(
        rehearsal,
        "DOCKERIGNORE",
        _with_extra_ignore(tmp_path, "include/config/endpoints.yaml"),
    )
    parsed = _parse_errors(venv, _image_env(image, venv, tmp_path / "image", install_package=False))
    assert parsed["errors"], parsed


def test_a_dependency_the_image_lacks_breaks_the_rehearsal(image, venv, tmp_path) -> None:
    env = _image_env(image, venv, tmp_path / "image", install_package=False)
    # moto is a dev dependency of ours: product code importing it would fail in the image.
    (Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / "uses_dev_tool.py").write_text(
        "import moto  # noqa: F401\nfrom airflow.sdk import DAG\n\nwith DAG('uses_dev_tool', schedule=None):\n    pass\n"
    )
    parsed = _parse_errors(venv, env)
    assert any("uses_dev_tool" in path and "moto" in error for path, error in parsed["errors"].items()), (
        parsed
    )


def _with_extra_ignore(tmp_path: Path, pattern: str) -> Path:
    path = tmp_path / ".dockerignore"
    path.write_text(rehearsal.DOCKERIGNORE.read_text() + f"\n{pattern}\n")
    return path
