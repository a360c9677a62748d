"""The Dockerfile and .dockerignore, tested without a Docker engine.

What can be checked here: the base image and pins match pyproject.toml, the pin generator the
Dockerfile runs produces exactly pyproject's pins (and rejects loose ones), every path it copies
exists and reaches the build context, it runs as the non-root airflow user, and no local secret,
virtualenv, cache or state can get into the build context.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.dockerfile import DockerIgnore, Instruction, parse_dockerfile

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
MANIFEST = REPO_ROOT / "dbt" / "target" / "manifest.json"
PYTHON_VERSION = "3.11"
# Everything the image may take from the build context, and nothing else.
ALLOWED_SOURCES = {"pyproject.toml", "README.md", "dags/", "include/", "plugins/", "dbt/"}
# Copied folders that may legitimately be absent (BuildKit copies nothing for a wildcard like `x[s]/`).
OPTIONAL_SOURCES: set[str] = set()
SECRET_SHAPED = [
    "*.env",
    ".env*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ed25519*",
    "*credentials*",
    "*.tfvars",
    "*.tfstate",
    "*.tfstate.*",
    "kubeconfig*",
    ".netrc",
    ".pgpass",
]


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse_dockerfile(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def dockerignore() -> DockerIgnore:
    return DockerIgnore.from_file(DOCKERIGNORE)


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def airflow_pin(pyproject: dict) -> str:
    return next(
        d.split("==")[1] for d in pyproject["project"]["dependencies"] if d.startswith("apache-airflow==")
    )


def copies(instructions: list[Instruction]) -> list[tuple[list[str], str, Instruction]]:
    found = []
    for instruction in instructions:
        if instruction.keyword in ("COPY", "ADD"):
            flags, words = instruction.flags_and_words()
            if "from" in flags:
                continue
            found.append((words[:-1], words[-1], instruction))
    return found


# --- Base image and pins -------------------------------------------------------------------------


def test_base_image_is_the_official_airflow_image_of_our_pins(instructions, pyproject) -> None:
    pin = airflow_pin(pyproject)
    froms = [i.arguments for i in instructions if i.keyword == "FROM"]
    assert froms == [f"apache/airflow:{pin}-python{PYTHON_VERSION}"]
    assert f"ARG AIRFLOW_VERSION={pin}" in [f"{i.keyword} {i.arguments}" for i in instructions]
    low, high = re.findall(r"(\d+\.\d+)", pyproject["project"]["requires-python"])[:2]
    assert tuple(map(int, low.split("."))) <= (3, 11) < tuple(map(int, high.split(".")))


def generator_script(instructions: list[Instruction]) -> str:
    scripts = [body for i in instructions if i.keyword == "RUN" for body in i.heredocs if "tomllib" in body]
    assert len(scripts) == 1, "the Dockerfile must generate its pins from pyproject.toml exactly once"
    return scripts[0]


def run_generator(script: str, pyproject_text: str, workdir: Path) -> subprocess.CompletedProcess[str]:
    (workdir / "pyproject.toml").write_text(pyproject_text)
    return subprocess.run(
        [sys.executable, "-"], input=script, cwd=workdir, capture_output=True, text=True, check=False
    )


def test_pin_generator_reproduces_pyproject_pins(instructions, pyproject, tmp_path) -> None:
    result = run_generator(
        generator_script(instructions), (REPO_ROOT / "pyproject.toml").read_text(), tmp_path
    )
    assert result.returncode == 0, result.stderr
    deps = [d.replace(" ", "") for d in pyproject["project"]["dependencies"]]
    assert (tmp_path / "requirements.txt").read_text().split() == deps
    constraints = (tmp_path / "constraints.txt").read_text().split()
    assert constraints == [re.sub(r"\[.*?\]", "", d) for d in deps]
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9._+!-]+", c) for c in constraints)
    assert f"apache-airflow=={airflow_pin(pyproject)}" in constraints


def test_pin_generator_rejects_loose_pins(instructions, tmp_path) -> None:
    loose = '[project]\nname = "x"\ndependencies = ["apache-airflow==3.3.2", "requests>=2.0"]\n'
    result = run_generator(generator_script(instructions), loose, tmp_path)
    assert result.returncode != 0
    assert "requests>=2.0" in result.stderr


def test_installs_with_constraints_then_the_package_without_deps(instructions) -> None:
    runs = [i.arguments for i in instructions if i.keyword == "RUN" and "pip install" in i.arguments]
    deps = [r for r in runs if "-c constraints.txt" in r]
    assert len(deps) == 1
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in deps[0] and "--no-cache-dir" in deps[0]
    package = [r for r in runs if "--no-deps" in r]
    assert len(package) == 1 and "--no-cache-dir" in package[0]
    assert runs.index(deps[0]) < runs.index(package[0])


# --- What it copies ------------------------------------------------------------------------------


def test_copies_only_allowed_sources(instructions) -> None:
    sources = [s for srcs, _, _ in copies(instructions) for s in srcs]
    assert set(sources) <= ALLOWED_SOURCES, f"unexpected COPY sources: {set(sources) - ALLOWED_SOURCES}"
    assert not any(i.keyword == "ADD" for i in instructions), (
        "use COPY (ADD fetches URLs and unpacks archives)"
    )
    assert "." not in sources and "./" not in sources


def _context_files(path: Path, dockerignore: DockerIgnore) -> list[str]:
    if path.is_file():
        rel = path.relative_to(REPO_ROOT).as_posix()
        return [rel] if dockerignore.included(rel) else []
    return [
        f.relative_to(REPO_ROOT).as_posix()
        for f in path.rglob("*")
        if f.is_file() and dockerignore.included(f.relative_to(REPO_ROOT).as_posix())
    ]


def test_every_copied_path_exists_and_reaches_the_build_context(instructions, dockerignore) -> None:
    for sources, _, instruction in copies(instructions):
        for source in sources:
            matches = (
                [p for p in REPO_ROOT.glob(source.rstrip("/"))]
                if any(c in source for c in "*?[")
                else [REPO_ROOT / source.rstrip("/")]
            )
            if source in OPTIONAL_SOURCES and not any(m.exists() for m in matches):
                continue
            for match in matches:
                assert match.exists(), (
                    f"Dockerfile line {instruction.line}: COPY {source}: {match} does not exist"
                )
                files = _context_files(match, dockerignore)
                if source in OPTIONAL_SOURCES:
                    continue
                where = f"Dockerfile line {instruction.line}: COPY {source}"
                assert files, f"{where}: nothing of it is in the build context"


def test_bakes_dags_include_plugins_and_dbt_into_airflow_home(instructions) -> None:
    destinations = {dest.rstrip("/") for _, dest, _ in copies(instructions)}
    for folder in ("dags", "include", "plugins", "dbt"):
        assert f"/opt/airflow/{folder}" in destinations, folder
    env = " ".join(i.arguments for i in instructions if i.keyword == "ENV")
    assert "AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags" in env
    assert "AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/plugins" in env
    assert "GMP_CONFIG_PATH=/opt/airflow/include/config/endpoints.yaml" in env
    assert "PYTHONPATH=/opt/airflow/include" in env


def test_compiled_dbt_manifest_is_present_and_shipped(dockerignore) -> None:
    assert MANIFEST.is_file(), (
        "dbt/target/manifest.json is missing: the image bakes the compiled dbt manifest so Cosmos never "
        "parses the project at DAG-parse time. Run `make dbt-manifest` and commit dbt/target/manifest.json."
    )
    assert MANIFEST.stat().st_size > 0, "dbt/target/manifest.json is empty: run `make dbt-manifest`"
    assert dockerignore.included("dbt/target/manifest.json")
    assert dockerignore.excluded("dbt/target/run_results.json")


def _env(instructions: list[Instruction]) -> dict[str, str]:
    env = {}
    for instruction in instructions:
        if instruction.keyword == "ENV":
            for word in shlex.split(instruction.arguments):
                name, _, value = word.partition("=")
                env[name] = value
    return env


def test_library_finds_its_config_and_dbt_project_in_the_image_layout(
    instructions, dockerignore, tmp_path
) -> None:
    """Rebuild AIRFLOW_HOME as the COPY instructions lay it out, then import the package from there."""
    home = tmp_path / "opt" / "airflow"
    for sources, dest, _ in copies(instructions):
        if not dest.startswith("/opt/airflow/"):
            continue
        target = home / dest.removeprefix("/opt/airflow/")
        for source in sources:
            for match in (
                REPO_ROOT.glob(source.rstrip("/")) if "[" in source else [REPO_ROOT / source.rstrip("/")]
            ):
                for rel in _context_files(match, dockerignore):
                    inside = (
                        Path(rel).relative_to(match.relative_to(REPO_ROOT))
                        if match.is_dir()
                        else Path(match.name)
                    )
                    (target / inside).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(REPO_ROOT / rel, target / inside)
    image_env = {name: value.replace("/opt/airflow", str(home)) for name, value in _env(instructions).items()}
    probe = (
        "import json, game_market_pipeline\n"
        "from game_market_pipeline.config.loader import config_path, load_config\n"
        "from game_market_pipeline.transform.sources import DBT_PROJECT_DIR\n"
        "loaded = load_config()\n"
        "print(json.dumps({'package': game_market_pipeline.__file__, 'config': str(config_path()),\n"
        "                  'dbt': str(DBT_PROJECT_DIR), 'problems': [str(p) for p in loaded.problems]}))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": image_env["PYTHONPATH"],
        "GMP_CONFIG_PATH": image_env["GMP_CONFIG_PATH"],
    }
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["package"].startswith(str(home / "include")), (
        "the package must be imported from AIRFLOW_HOME"
    )
    assert found["config"] == str(home / "include" / "config" / "endpoints.yaml")
    assert found["dbt"] == str(home / "dbt")
    assert (home / "dbt" / "target" / "manifest.json").is_file()
    assert (home / "dbt" / "dbt_project.yml").is_file() and (home / "dags").is_dir()
    assert not found["problems"]


def test_runs_as_the_non_root_airflow_user(instructions) -> None:
    users = [i.arguments for i in instructions if i.keyword == "USER"]
    assert users, "no USER instruction"
    assert users[-1] == "airflow"
    assert not any(u.split(":")[0] in ("root", "0") for u in users)


def test_no_secret_in_build_arguments_or_environment(instructions) -> None:
    secret_name = re.compile(r"(?i)(password|secret|token|api_?key|access_key|fernet|credential)")
    for instruction in instructions:
        if instruction.keyword in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", instruction.arguments):
                assert not secret_name.search(name), f"line {instruction.line}: {instruction.keyword} {name}"
        assert not re.search(r"--mount=type=secret", instruction.arguments) or instruction.keyword == "RUN"


# --- .dockerignore -------------------------------------------------------------------------------

MUST_BE_EXCLUDED = [
    ".venv/bin/python",
    ".venv-checkov/bin/checkov",
    ".local/test-stack/pg/postmaster.pid",
    "include/game_market_pipeline/__pycache__/loader.cpython-311.pyc",
    "dags/__pycache__/x.pyc",
    ".pytest_cache/v/cache/lastfailed",
    "dbt/target/run_results.json",
    "dbt/target/compiled/x.sql",
    "dbt/logs/dbt.log",
    "bench/out/results.json",
    ".git/HEAD",
    ".git/config",
    ".env",
    "include/.env",
    "dags/.env.local",
    "terraform/envs/dev/terraform.tfvars",
    "terraform/envs/dev/terraform.tfstate",
    "terraform/envs/dev/.terraform/providers/x",
    "id_rsa",
    "dbt/profiles/id_ed25519",
    ".aws/credentials",
    "include/kubeconfig",
    "tests/conftest.py",
    "include/game_market_pipeline.egg-info/PKG-INFO",
]
MUST_BE_INCLUDED = [
    "pyproject.toml",
    "README.md",
    "dags/ingest_endpoints.py",
    "include/config/endpoints.yaml",
    "include/game_market_pipeline/__init__.py",
    "dbt/dbt_project.yml",
    "dbt/target/manifest.json",
]


@pytest.mark.parametrize("path", MUST_BE_EXCLUDED)
def test_dockerignore_keeps_local_state_and_secrets_out(dockerignore, path) -> None:
    assert dockerignore.excluded(path)


@pytest.mark.parametrize("path", MUST_BE_INCLUDED)
def test_dockerignore_lets_the_image_sources_in(dockerignore, path) -> None:
    assert dockerignore.included(path)


def test_dockerignore_names_the_usual_suspects() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    for pattern in (
        ".venv",
        ".venv-*",
        ".local",
        ".pytest_cache",
        "bench/out",
        ".git",
        "dbt/logs",
        "dbt/target/*",
        "!dbt/target/manifest.json",
    ):
        assert pattern in patterns, pattern
    assert any("__pycache__" in p for p in patterns)


def test_dockerignore_matcher_can_fail() -> None:
    # Docker anchors patterns at the context root: without `**/`, nested caches slip through.
    naive = DockerIgnore("__pycache__\n*.pyc\n")
    assert naive.excluded("__pycache__/x.pyc") and naive.excluded("x.pyc")
    assert naive.included("include/pkg/__pycache__/x.pyc")
    assert naive.included("include/pkg/mod.cpython-311.pyc")
    assert naive.included(".venv/bin/python")
    # A directory pattern covers everything below it; a later `!` re-includes; the last match wins.
    rules = DockerIgnore("dbt/target\n!dbt/target/manifest.json\n")
    assert rules.included("dbt/target/manifest.json") and rules.excluded("dbt/target/graph.gpickle")
    assert DockerIgnore("!dags\n**\n").excluded("dags/a.py")


def test_build_context_holds_no_secret_shaped_file(dockerignore) -> None:
    offenders = []
    for folder in ("dags", "include", "plugins", "dbt"):
        root = REPO_ROOT / folder
        if not root.exists():
            continue
        for rel in _context_files(root, dockerignore):
            name = rel.rsplit("/", 1)[-1]
            if any(fnmatch.fnmatch(name, pattern) for pattern in SECRET_SHAPED):
                offenders.append(rel)
    assert not offenders, f"secret-shaped files would be sent to the builder: {offenders}"
