"""Rehearse the Docker image without Docker: the Dockerfile's own install steps in a Python 3.11
virtualenv, AIRFLOW_HOME laid out by its COPY instructions through .dockerignore, its ENV applied.

What is taken from the Dockerfile, not restated here: the pin generator (the `RUN python` heredoc),
the dependency `pip install` command, the package `pip install --no-deps` command, the COPY sources
and destinations, and ENV. What the `apache/airflow` base image carries and we rely on is listed in
tests/deploy/base_image_packages.txt (installed first, like the base layer). A missing COPY, a
path .dockerignore drops, or a dependency neither our pins nor the base image provide shows up as
an import error in `airflow dags reserialize`.

The virtualenv is cached under .local/image-rehearsal/ by a hash of everything that shapes it, so
only the first run after a dependency change pays the install (~2 minutes).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.dockerfile import DockerIgnore, Instruction, parse_dockerfile

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
BASE_IMAGE_PACKAGES = Path(__file__).with_name("base_image_packages.txt")
CACHE_DIR = REPO_ROOT / ".local" / "image-rehearsal"
IMAGE_HOME = "/opt/airflow"


@dataclass(frozen=True)
class Image:
    """The parts of the Dockerfile the rehearsal replays."""

    python: str
    build_args: dict[str, str]
    env: dict[str, str]
    pin_generator: str
    dependency_install: str
    package_install: str
    copies: list[tuple[list[str], str]]  # (sources, absolute destination)
    workdirs: list[str]  # every WORKDIR: the absolute paths RUN commands may name
    home_runs: list[str]  # RUN commands that write into AIRFLOW_HOME

    @classmethod
    def from_dockerfile(cls, text: str) -> Image:
        instructions = parse_dockerfile(text)
        (base,) = [i.arguments for i in instructions if i.keyword == "FROM"]
        python = re.search(r"-python(\d+\.\d+)$", base)
        if not python:
            raise ValueError(f"FROM {base}: cannot tell the Python version")
        args = dict(_assignments(i) for i in instructions if i.keyword == "ARG" and "=" in i.arguments)
        env: dict[str, str] = {}
        for instruction in instructions:
            if instruction.keyword == "ENV":
                env.update(dict(_env_pairs(instruction)))
        generators = [b for i in instructions if i.keyword == "RUN" for b in i.heredocs if "tomllib" in b]
        runs = [i.arguments for i in instructions if i.keyword == "RUN" and not i.heredocs]
        (dependency,) = [r for r in runs if "pip install" in r and "-c constraints.txt" in r]
        (package,) = [r for r in runs if "pip install" in r and "--no-deps" in r]
        copies, workdirs, workdir = [], [], "/"
        for instruction in instructions:
            if instruction.keyword == "WORKDIR":
                workdir = posixpath.join(workdir, instruction.arguments)
                workdirs.append(workdir)
            elif instruction.keyword == "COPY" and "--from" not in instruction.arguments:
                _, words = instruction.flags_and_words()
                destination = posixpath.normpath(posixpath.join(workdir, words[-1]))
                copies.append((words[:-1], destination + ("/" if words[-1].endswith("/") else "")))
        return cls(
            python=python.group(1),
            build_args=args,
            env=env,
            pin_generator=generators[0],
            dependency_install=dependency,
            package_install=package,
            copies=copies,
            workdirs=workdirs,
            home_runs=[r for r in runs if IMAGE_HOME in r and "pip install" not in r],
        )


def _assignments(instruction: Instruction) -> tuple[str, str]:
    name, _, value = instruction.arguments.partition("=")
    return name.strip(), value.strip().strip('"')


def _env_pairs(instruction: Instruction) -> list[tuple[str, str]]:
    return [tuple(word.split("=", 1)) for word in shlex.split(instruction.arguments) if "=" in word]


def _cache_key(image: Image) -> str:
    digest = hashlib.sha256()
    for part in (
        image.python,
        repr(sorted(image.build_args.items())),
        image.pin_generator,
        image.dependency_install,
        (REPO_ROOT / "pyproject.toml").read_text(),
        BASE_IMAGE_PACKAGES.read_text(),
    ):
        digest.update(part.encode())
    return digest.hexdigest()[:16]


def _pip_command(command: str, venv: Path, args: dict[str, str]) -> str:
    """The Dockerfile's pip command for this venv: `${ARG}`s filled in, pip's download cache allowed
    (`--no-cache-dir` keeps the image small; it changes nothing about what is installed)."""
    for name, value in args.items():
        command = command.replace("${" + name + "}", value).replace("$" + name, value)
    command = command.replace("--no-cache-dir", "")
    return re.sub(r"(^|&&\s*)pip ", lambda m: f"{m.group(1)}{venv}/bin/python -m pip ", command)


def build_venv(image: Image, log: Path) -> Path:
    """The image's Python environment: base-image packages, then our pinned dependencies."""
    venv = CACHE_DIR / f"venv-{_cache_key(image)}"
    if (venv / ".complete").is_file():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    python = shutil.which(f"python{image.python}")
    if not python:
        raise RuntimeError(f"python{image.python} (the image's Python) is not on PATH")
    build = CACHE_DIR / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    with log.open("a") as out:
        subprocess.run([python, "-m", "venv", str(venv)], check=True, stdout=out, stderr=out)
        # The base image's own layer: Airflow with the providers it ships and we rely on.
        airflow = f"apache-airflow=={image.build_args['AIRFLOW_VERSION']}"
        subprocess.run(
            [str(venv / "bin/python"), "-m", "pip", "install", "-q", airflow, "-r", str(BASE_IMAGE_PACKAGES)],
            check=True,
            stdout=out,
            stderr=out,
        )
        shutil.copy(REPO_ROOT / "pyproject.toml", build / "pyproject.toml")
        subprocess.run(
            [str(venv / "bin/python"), "-"], input=image.pin_generator.encode(), cwd=build, check=True
        )
        subprocess.run(
            _pip_command(image.dependency_install, venv, image.build_args),
            shell=True,
            cwd=build,
            check=True,
            stdout=out,
            stderr=out,
        )
    (venv / ".complete").touch()
    return venv


def _context_files(source: str) -> list[Path]:
    """What the build context holds under `source` (after .dockerignore)."""
    ignore = DockerIgnore.from_file(DOCKERIGNORE)
    root = REPO_ROOT / source
    candidates = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return [p for p in candidates if ignore.included(p.relative_to(REPO_ROOT).as_posix())]


def lay_out(image: Image, root: Path, venv: Path, log: Path, install_package: bool = True) -> dict[str, str]:
    """Copy what the Dockerfile copies into `root` (standing for the image's `/`), install the package
    the Dockerfile's way, run its RUNs that write AIRFLOW_HOME; return the image's ENV, mapped."""

    def mapped_text(text: str) -> str:
        for workdir in sorted(image.workdirs, key=len, reverse=True):
            text = text.replace(workdir, str(root / workdir.lstrip("/")))
        return text

    for sources, destination in image.copies:
        target_dir = root / destination.lstrip("/")
        for source in sources:
            origin = REPO_ROOT / source.rstrip("/")
            for file in _context_files(source.rstrip("/")):
                if origin.is_dir():
                    target = target_dir / file.relative_to(origin)
                elif destination.endswith("/"):
                    target = target_dir / file.name
                else:
                    target = target_dir
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, target)
    with log.open("a") as out:
        package_dir = next(d for d in image.workdirs if d in image.package_install)
        # The package install only adds metadata and the gmp-* scripts (the code is imported from
        # AIRFLOW_HOME/include): a parse-only check may leave it out to save a wheel build.
        subprocess.run(
            "true"
            if not install_package
            else mapped_text(_pip_command(image.package_install, venv, image.build_args)),
            shell=True,
            check=True,
            stdout=out,
            stderr=out,
            cwd=root / package_dir.lstrip("/"),
        )
        for command in image.home_runs:
            subprocess.run(mapped_text(command), shell=True, check=True, stdout=out, stderr=out)
    return {name: mapped_text(value) for name, value in image.env.items()}


def image_environment(venv: Path, image_env: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Only what the image has: its ENV and the venv first on PATH (nothing of the dev venv)."""
    return {
        "PATH": f"{venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        **image_env,
        **extra,
    }
