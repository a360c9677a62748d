"""The `quality:` section of the shared config: typed, validated early, consistent with dbt and endpoints."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config, parse_config
from game_market_pipeline.config.quality import QualityConfig, Severity
from game_market_pipeline.config.schema_export import config_json_schema
from game_market_pipeline.quality.checks import DBT_BUILD_CHECK_ID, CheckKind, plan_checks, plan_from_loaded

DBT_MODELS = Path(__file__).resolve().parents[2] / "dbt" / "models"


def _raw() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def test_the_shared_config_declares_every_kind_of_check_and_loads_cleanly():
    loaded = load_config()
    assert loaded.problems == ()
    plan = plan_from_loaded(loaded)
    assert plan.problems == ()
    kinds = {spec.kind for spec in plan.specs}
    assert kinds == {
        CheckKind.ROW_COUNT,
        CheckKind.RELATIVE_CHANGE,
        CheckKind.NULL_RATE,
        CheckKind.UNIQUE,
        CheckKind.RELATIONSHIPS,
        CheckKind.FRESHNESS,
        CheckKind.QUARANTINE_RATE,
    }
    assert {spec.severity for spec in plan.specs} == {Severity.ERROR, Severity.WARN}
    ids = plan.expected_check_ids
    assert len(ids) == len(set(ids)) and ids[-1] == DBT_BUILD_CHECK_ID
    # every configured endpoint's quarantine rate is watched, with the endpoint's own threshold
    quarantine = {s.table: s.threshold for s in plan.specs if s.kind == CheckKind.QUARANTINE_RATE}
    assert quarantine == {f"raw.{e.table_name}": e.quarantine_threshold for e in loaded.endpoints}


def test_every_model_the_checks_name_is_a_dbt_model():
    quality = load_config().config.quality
    models = {path.stem for path in DBT_MODELS.rglob("*.sql")}
    named = set(quality.models)
    for checks in quality.models.values():
        named |= {rel.to for rel in checks.relationships}
    assert named - models == set()


def test_a_typo_is_reported_with_file_and_field():
    raw = _raw()
    broken = copy.deepcopy(raw)
    broken["quality"]["models"]["fact_games"]["row_cont"] = {"min": 1}
    broken["quality"]["models"]["dim_tag"]["row_count"] = {"min": 1, "severity": "fatal"}
    loaded = parse_config(broken, Path("endpoints.yaml"))
    fields = {p.field for p in loaded.problems}
    assert "quality.models.fact_games.row_cont" in fields
    assert "quality.models.dim_tag.row_count.severity" in fields
    assert loaded.config is None


def test_staging_checks_must_name_a_configured_endpoint():
    quality = QualityConfig.model_validate({"staging": {"rawg__gamez": {"quarantine_rate": {}}}})
    plan = plan_checks(quality, {"rawg__games": 0.05}, "endpoints.yaml")
    (problem,) = plan.problems
    assert problem.field == "quality.staging.rawg__gamez" and "rawg__games" in problem.message


def test_relative_change_is_refused_on_staging_tables():
    with pytest.raises(ValueError, match="no such baseline"):
        QualityConfig.model_validate({"staging": {"rawg__games": {"relative_change": {"max": 0.5}}}})


def test_defaults_apply_and_a_config_without_quality_still_loads():
    raw = _raw()
    raw.pop("quality")
    loaded = parse_config(raw, Path("endpoints.yaml"))
    assert loaded.problems == () and loaded.config.quality == QualityConfig()
    quality = QualityConfig.model_validate(
        {"defaults": {"severity": "warn"}, "models": {"t": {"row_count": {"min": 1}}}}
    )
    (spec,) = plan_checks(quality).specs
    assert spec.severity == Severity.WARN and quality.promotion.production_schema == "analytics"


def test_the_json_schema_for_editors_covers_the_quality_section():
    schema = config_json_schema()
    assert "quality" in schema["properties"]
    assert (
        "QualityConfig" in schema["$defs"]
        and schema["$defs"]["QualityConfig"]["additionalProperties"] is False
    )


def test_staging_checks_of_an_endpoint_left_out_by_its_config_are_skipped_with_a_warning(caplog):
    raw = _raw()
    raw["sources"][0]["endpoints"][0]["paginator"] = {"kind": "cursorz"}  # rawg.games: left out
    loaded = parse_config(raw, Path("endpoints.yaml"))
    with caplog.at_level("WARNING", logger="game_market_pipeline.quality.checks"):
        plan = plan_from_loaded(loaded)
    assert plan.problems == ()
    assert plan.skipped == (
        "endpoints.yaml, field 'quality.staging.rawg__games': checks skipped, "
        "the endpoint's config has a problem (see the config's import error)",
    )
    assert plan.skipped[0] in caplog.text
    tables = {spec.table for spec in plan.specs}
    assert "raw.rawg__games" not in tables and "raw.rawg__genres" in tables
    # A staging table no endpoint of the file has is still a problem (a typo, not a dropped endpoint).
    raw["quality"]["staging"]["rawg__gamez"] = {"quarantine_rate": {}}
    plan = plan_from_loaded(parse_config(raw, Path("endpoints.yaml")))
    assert [p.field for p in plan.problems] == ["quality.staging.rawg__gamez"]
