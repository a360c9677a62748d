"""Schema names: one module (warehouse.schemas) reads them from the config; none is hard-coded elsewhere."""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, parse_config
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS, WarehouseSchemas, configured_schemas

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "include" / "game_market_pipeline"
SCHEMA_NAMES = {"raw", "ops", "analytics", "analytics_audit", "analytics_previous"}

# String literals equal to a default schema name that are something else, or pending elsewhere.
# An entry that no longer matches fails the test, so the list only shrinks.
ALLOWED = {
    # Migration tracks (folders migrations/ops, migrations/raw), mapped to the configured schemas.
    ("warehouse/migrate.py", "ops"),
    ("warehouse/migrate.py", "raw"),
}


def _raw_config() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def schema_literals(source: str) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in SCHEMA_NAMES
    }


def test_the_defaults_are_the_configs_own() -> None:
    assert DEFAULT_SCHEMAS == WarehouseSchemas(
        raw="raw", ops="ops", audit="analytics_audit", production="analytics", previous="analytics_previous"
    )
    assert DEFAULT_SCHEMAS.staging == DEFAULT_SCHEMAS.raw


def test_the_schemas_are_read_from_the_config(tmp_path: Path) -> None:
    raw = _raw_config()
    raw["warehouse"].update(raw_schema="landing", ops_schema="pipeline_ops", audit_schema="wap_audit")
    raw["quality"]["promotion"].update(production_schema="marts", previous_schema="marts_before")
    loaded = parse_config(raw, Path("endpoints.yaml"))
    assert loaded.problems == ()
    assert WarehouseSchemas.from_config(loaded) == WarehouseSchemas(
        raw="landing", ops="pipeline_ops", audit="wap_audit", production="marts", previous="marts_before"
    )
    assert configured_schemas() == WarehouseSchemas.from_config(
        parse_config(_raw_config(), DEFAULT_CONFIG_PATH)
    )
    # configured_schemas reads the file it is given, not only the shipped one.
    path = tmp_path / "endpoints.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    assert configured_schemas(str(path)) == WarehouseSchemas(
        raw="landing", ops="pipeline_ops", audit="wap_audit", production="marts", previous="marts_before"
    )


@pytest.mark.parametrize(
    ("section", "field", "value", "roles"),
    [
        ("warehouse", "ops_schema", "raw", "warehouse.raw_schema and warehouse.ops_schema"),
        (
            "warehouse",
            "audit_schema",
            "analytics",
            "warehouse.audit_schema and quality.promotion.production_schema",
        ),
        (
            "warehouse",
            "raw_schema",
            "analytics_previous",
            "warehouse.raw_schema and quality.promotion.previous_schema",
        ),
        (
            "quality.promotion",
            "previous_schema",
            "analytics",
            "quality.promotion.production_schema and quality.promotion.previous_schema",
        ),
    ],
)
def test_two_roles_sharing_one_schema_are_refused(section, field, value, roles) -> None:
    raw = copy.deepcopy(_raw_config())
    target = raw
    for key in section.split("."):
        target = target[key]
    target[field] = value
    loaded = parse_config(raw, Path("endpoints.yaml"))
    assert loaded.config is None
    messages = " ".join(str(p) for p in loaded.problems)
    assert f"'{value}' is {roles}" in messages, messages


def test_no_schema_name_is_hard_coded_in_the_product() -> None:
    found = set()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if relative.startswith("config/"):  # the config declares the defaults
            continue
        found |= {(relative, name) for name in schema_literals(path.read_text())}
    assert found - ALLOWED == set(), "schema names must come from warehouse.schemas / the config"
    assert ALLOWED - found == set(), "stale ALLOWED entries: remove them"


def test_the_literal_check_can_fail() -> None:
    source = 'def f(conn, ops_schema="ops"):\n    return "analytics_audit", f"{ops_schema}.runs", "opsx"\n'
    assert schema_literals(source) == {"ops", "analytics_audit"}
