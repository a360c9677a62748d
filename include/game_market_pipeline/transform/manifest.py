"""The committed dbt manifest (dbt/target/manifest.json) that Cosmos renders the transform DAG from.

LoadMode.DBT_MANIFEST means parsing the DAG never runs dbt; the price is that the manifest must be
rebuilt whenever the project changes (`make dbt-manifest`). `check_manifest()` parses the project
into a temporary target path and compares a fingerprint of every node (ids, file checksums, code,
config, dependencies, test arguments, unit-test fixtures, project macros) with the committed one,
ignoring what differs between machines and runs (timestamps, invocation ids, absolute paths, the
database/schema of the profile used for parsing).

    python -m game_market_pipeline.transform.manifest            # rebuild dbt/target/manifest.json
    python -m game_market_pipeline.transform.manifest --check    # exit 1 when the committed one is stale
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from game_market_pipeline.config.models import WarehouseConfig
from game_market_pipeline.transform.sources import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
PROJECT_NAME = "game_market"

# The profile used to parse: fixed values so the committed manifest does not depend on who built it.
# `dbt parse` does not connect to the database.
PARSE_ENV = {
    "GMP_PG_HOST": "127.0.0.1",
    "GMP_PG_PORT": "5432",
    "GMP_PG_USER": "dbt",
    "GMP_PG_PASSWORD": "",
    "GMP_PG_DBNAME": "warehouse",
    "GMP_DBT_SCHEMA": WarehouseConfig().audit_schema,  # the config model's default, whatever a config says
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
}

_NODE_FIELDS = (
    "resource_type",
    "name",
    "checksum",
    "raw_code",
    "config",
    "test_metadata",
    "description",
    "original_file_path",
)
_SOURCE_FIELDS = (
    "identifier",
    "schema",
    "loaded_at_field",
    "freshness",
    "config",
    "description",
    "original_file_path",
)
_UNIT_TEST_FIELDS = ("model", "given", "expect", "overrides", "config", "original_file_path")


def dbt_executable() -> str:
    """The dbt next to this interpreter (the project's venv), else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _pick(document: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    picked = {field: document.get(field) for field in fields}
    columns = document.get("columns")
    if isinstance(columns, Mapping):
        picked["columns"] = {name: (column or {}).get("description") for name, column in columns.items()}
    depends_on = document.get("depends_on")
    if isinstance(depends_on, Mapping):
        picked["depends_on"] = sorted(depends_on.get("nodes") or [])
    return picked


def manifest_fingerprint(manifest: Mapping[str, Any]) -> dict[str, str]:
    """unique_id -> digest of what defines the node; stable across machines, runs and profiles."""
    fingerprint: dict[str, str] = {}
    for unique_id, node in (manifest.get("nodes") or {}).items():
        fingerprint[unique_id] = _digest(_pick(node, _NODE_FIELDS))
    for unique_id, source in (manifest.get("sources") or {}).items():
        fingerprint[unique_id] = _digest(_pick(source, _SOURCE_FIELDS))
    for unique_id, unit_test in (manifest.get("unit_tests") or {}).items():
        fingerprint[unique_id] = _digest(_pick(unit_test, _UNIT_TEST_FIELDS))
    for unique_id, macro in (manifest.get("macros") or {}).items():
        if macro.get("package_name") == PROJECT_NAME:
            fingerprint[unique_id] = _digest(macro.get("macro_sql"))
    return fingerprint


def parse_manifest(target_path: Path, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Run `dbt parse` with `target_path` as the target directory; return the manifest it wrote."""
    env = {**os.environ, **PARSE_ENV}
    with tempfile.TemporaryDirectory(prefix="dbt-logs-") as log_dir:
        result = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--no-partial-parse",
                "--project-dir",
                str(project_dir),
                "--profiles-dir",
                str(project_dir),
                "--target-path",
                str(target_path),
                "--log-path",
                log_dir,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(f"dbt parse failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return target_path / "manifest.json"


def manifest_differences(committed: Mapping[str, Any], fresh: Mapping[str, Any]) -> dict[str, list[str]]:
    old, new = manifest_fingerprint(committed), manifest_fingerprint(fresh)
    return {
        "missing_from_committed": sorted(set(new) - set(old)),
        "gone_from_project": sorted(set(old) - set(new)),
        "changed": sorted(uid for uid in set(old) & set(new) if old[uid] != new[uid]),
    }


def check_manifest(
    manifest_path: Path = MANIFEST_PATH, project_dir: Path = DBT_PROJECT_DIR
) -> dict[str, list[str]]:
    """Differences between the committed manifest and a fresh parse (all lists empty = up to date)."""
    committed = json.loads(manifest_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as target:
        fresh = json.loads(parse_manifest(Path(target), project_dir).read_text(encoding="utf-8"))
    return manifest_differences(committed, fresh)


def build_manifest(manifest_path: Path = MANIFEST_PATH, project_dir: Path = DBT_PROJECT_DIR) -> Path:
    with tempfile.TemporaryDirectory(prefix="dbt-target-") as target:
        fresh = parse_manifest(Path(target), project_dir)
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fresh, manifest_path)
    return manifest_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed manifest is stale")
    args = parser.parse_args(argv)
    if args.check:
        differences = check_manifest()
        if any(differences.values()):
            for kind, ids in differences.items():
                for unique_id in ids:
                    print(f"{kind}: {unique_id}", file=sys.stderr)
            print("dbt/target/manifest.json is stale: run `make dbt-manifest`", file=sys.stderr)
            return 1
        print("dbt/target/manifest.json is up to date")
        return 0
    print(f"wrote {build_manifest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
