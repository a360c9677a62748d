"""The dbt project's seams: sources generated from the config, the committed manifest, the profile."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config, parse_config
from game_market_pipeline.transform import manifest as manifest_module
from game_market_pipeline.transform.sources import SOURCES_YML, build_sources, render_sources_yaml
from game_market_pipeline.transform.sources import main as sources_main

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"


def test_committed_sources_yml_is_in_sync_with_the_config():
    assert SOURCES_YML.read_text(encoding="utf-8") == render_sources_yaml(), (
        "dbt/models/staging/_sources.yml is out of sync with include/config/endpoints.yaml: run `make dbt-sources`"
    )
    assert sources_main(["--check"]) == 0


def test_every_endpoint_is_a_source_table_with_freshness():
    document = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))
    tables = {(s["name"], t["name"]): (s, t) for s in document["sources"] for t in s["tables"]}
    endpoints = load_config().endpoints
    assert set(tables) == {(e.source, e.name) for e in endpoints}
    for endpoint in endpoints:
        source, table = tables[(endpoint.source, endpoint.name)]
        assert source["schema"] == "raw"
        assert table["identifier"] == endpoint.table_name
        assert table["config"]["loaded_at_field"] == "_ingested_at"
        freshness = table["config"]["freshness"]
        assert freshness["warn_after"]["count"] < freshness["error_after"]["count"]
        assert [c["name"] for c in table["columns"]] == [
            "_record_key",
            "_content_hash",
            "payload",
            "_ingested_at",
            "_run_id",
            "_source_uri",
        ]


def test_sources_follow_the_config(tmp_path):
    """A new endpoint in the config is a new source table; nothing about sources is hand-written."""
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    raw["sources"][0]["endpoints"].append(
        {"name": "creators", "path": "/creators", "record_model": "rawg.Game", "schedule": "@weekly"}
    )
    changed = parse_config(raw, tmp_path / "endpoints.yaml")
    document = build_sources(changed)
    rawg = next(s for s in document["sources"] if s["name"] == "rawg")
    creators = next(t for t in rawg["tables"] if t["name"] == "creators")
    assert creators["identifier"] == "rawg__creators"
    assert creators["config"]["freshness"]["warn_after"] == {"count": 14, "period": "day"}
    assert render_sources_yaml(changed) != SOURCES_YML.read_text(encoding="utf-8")


def test_committed_manifest_is_up_to_date():
    differences = manifest_module.check_manifest()
    assert differences == {"missing_from_committed": [], "gone_from_project": [], "changed": []}, (
        "dbt/target/manifest.json is stale: run `make dbt-manifest`"
    )


def test_manifest_fingerprint_ignores_run_and_machine_details_but_not_code():
    committed = json.loads(manifest_module.MANIFEST_PATH.read_text())
    moved = json.loads(json.dumps(committed).replace(str(DBT_DIR), "/elsewhere/dbt"))
    moved["metadata"].update(generated_at="2030-01-01T00:00:00Z", invocation_id="another")
    for node in moved["nodes"].values():
        node.update(database="other_db", schema="other_schema", created_at=0)
    assert manifest_module.manifest_differences(committed, moved) == {
        "missing_from_committed": [],
        "gone_from_project": [],
        "changed": [],
    }
    edited = json.loads(json.dumps(committed))
    edited["nodes"]["model.game_market.fact_games"]["raw_code"] += "\n-- edited"
    del edited["nodes"]["model.game_market.dim_tag"]
    differences = manifest_module.manifest_differences(committed, edited)
    assert differences["changed"] == ["model.game_market.fact_games"]
    assert differences["gone_from_project"] == ["model.game_market.dim_tag"]


def test_profiles_yml_takes_every_connection_value_from_the_environment():
    profile = yaml.safe_load((DBT_DIR / "profiles.yml").read_text())["game_market"]["outputs"]["local"]
    for key in ("host", "port", "user", "password", "dbname", "schema"):
        assert "env_var(" in str(profile[key]), key
    assert profile["password"] == "{{ env_var('GMP_PG_PASSWORD', '') }}"
    assert profile["schema"] == "{{ env_var('GMP_DBT_SCHEMA', 'analytics_audit') }}"


def test_one_schema_per_build_and_no_dbt_packages():
    macro = (DBT_DIR / "macros" / "generate_schema_name.sql").read_text()
    assert re.search(r"\{\{\s*target\.schema", macro)
    assert not (DBT_DIR / "packages.yml").exists() and not (DBT_DIR / "dependencies.yml").exists()


def test_only_staging_models_read_sources():
    for path in (DBT_DIR / "models").rglob("*.sql"):
        if "source(" in path.read_text():
            assert path.parent.parent.name == "staging" or path.parent.name == "staging", path


def test_every_model_has_its_yml_with_a_tested_primary_key():
    committed = json.loads(manifest_module.MANIFEST_PATH.read_text())
    models = {uid: n for uid, n in committed["nodes"].items() if n["resource_type"] == "model"}
    tested = {}
    for node in committed["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata"):
            for parent in node["depends_on"]["nodes"]:
                tested.setdefault(parent, set()).add(node["test_metadata"]["name"])
    for uid, node in models.items():
        assert node["patch_path"], f"{uid} has no yml"
        assert node["description"], f"{uid} has no description"
        assert tested.get(uid), f"{uid} has no tests"
        if node["name"].startswith(("dim_", "fact_", "bridge_", "mart_")):
            assert {"not_null", "unique"} <= tested[uid], uid
