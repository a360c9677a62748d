"""Generate the dbt sources yml from the shared endpoint config (the single source of truth).

Every configured endpoint is one staging table `raw.<source>__<endpoint>` and therefore one dbt
source table: `source('<source>', '<endpoint>')`. The file is committed (dbt needs it on disk) and
`tests/dbt/test_project.py` (test_committed_sources_yml_is_in_sync_with_the_config) fails when it no
longer matches the config:

    python -m game_market_pipeline.transform.sources           # rewrite dbt/models/staging/_sources.yml
    python -m game_market_pipeline.transform.sources --check   # exit 1 when out of sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from game_market_pipeline.config.loader import LoadedConfig, load_config
from game_market_pipeline.config.models import ResolvedEndpoint

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"
LOADED_AT_FIELD = "_ingested_at"

HEADER = (
    "# GENERATED from include/config/endpoints.yaml by `make dbt-sources`\n"
    "# (python -m game_market_pipeline.transform.sources). Do not edit by hand:\n"
    "# tests/dbt/test_project.py fails when this file and the config disagree.\n"
)

# Freshness follows the endpoint's ingestion schedule: one missed run warns, three missed runs error.
_SCHEDULE_DAYS = {"@hourly": 1, "@daily": 1, "@weekly": 7, "@monthly": 31}

# The staging-table contract (docs/CONTRACTS.md), the same for every endpoint.
CONTRACT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_record_key", "The record's primary key value (the endpoint's `primary_key`), as text."),
    ("_content_hash", "sha256 hex of the canonical JSON of the record; (key, hash) is unique."),
    ("payload", "The raw record exactly as the API sent it (for fan-out endpoints: the detail)."),
    ("_ingested_at", "When the load wrote the row; the latest version per key has the greatest value."),
    ("_run_id", "The ingestion run that loaded the row."),
    ("_source_uri", "s3:// URI of the bronze Parquet file the row came from."),
)


def freshness_for(schedule: str | None) -> dict[str, Any]:
    days = _SCHEDULE_DAYS.get(schedule or "", 1)
    return {
        "warn_after": {"count": days * 2, "period": "day"},
        "error_after": {"count": days * 4, "period": "day"},
    }


def _table(endpoint: ResolvedEndpoint) -> dict[str, Any]:
    description = endpoint.description or (
        f"`{endpoint.path}` records ({endpoint.record_model}), primary key `{endpoint.primary_key}`"
        + (f", fanned out to `{endpoint.fan_out.path}`" if endpoint.fan_out else "")
        + "."
    )
    return {
        "name": endpoint.name,
        "identifier": endpoint.table_name,
        "description": description,
        "config": {
            "loaded_at_field": LOADED_AT_FIELD,
            "freshness": freshness_for(endpoint.schedule),
            "meta": {
                "dag_id": endpoint.dag_id,
                "record_model": endpoint.record_model,
                "schedule": endpoint.schedule,
            },
        },
        "columns": [{"name": name, "description": text} for name, text in CONTRACT_COLUMNS],
    }


def build_sources(loaded: LoadedConfig) -> dict[str, Any]:
    """The sources document for every endpoint of the config (raises on config problems)."""
    loaded.raise_for_problems()
    assert loaded.config is not None
    raw_schema = loaded.config.warehouse.raw_schema
    descriptions = {s.name: s.description for s in loaded.config.sources}
    sources: list[dict[str, Any]] = []
    for source_name in dict.fromkeys(e.source for e in loaded.endpoints):
        endpoints = [e for e in loaded.endpoints if e.source == source_name]
        sources.append(
            {
                "name": source_name,
                "description": descriptions.get(source_name) or source_name,
                "schema": raw_schema,
                "config": {"loaded_at_field": LOADED_AT_FIELD},
                "tables": [_table(e) for e in endpoints],
            }
        )
    return {"version": 2, "sources": sources}


def render_sources_yaml(loaded: LoadedConfig | None = None) -> str:
    document = build_sources(loaded or load_config())
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    return HEADER + body


def source_tables(loaded: LoadedConfig | None = None) -> list[tuple[str, str, str]]:
    """(dbt source name, dbt table name, physical table name) for every endpoint."""
    loaded = loaded or load_config()
    loaded.raise_for_problems()
    return [(e.source, e.name, e.table_name) for e in loaded.endpoints]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=SOURCES_YML)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file is out of sync")
    args = parser.parse_args(argv)
    expected = render_sources_yaml()
    current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if args.check:
        if current != expected:
            print(f"{args.output} is out of sync with the config; run `make dbt-sources`", file=sys.stderr)
            return 1
        return 0
    if current != expected:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(expected, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
