"""`dbt build` passes against a real Postgres loaded from the recorded payloads, into ONE schema."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from game_market_pipeline.transform.manifest import MANIFEST_PATH

pytestmark = pytest.mark.integration

GOLD_MODELS = {
    "fact_games",
    "dim_date",
    "dim_platform",
    "dim_store",
    "dim_genre",
    "dim_tag",
    "dim_esrb_rating",
    "dim_developer",
    "dim_publisher",
    "bridge_game_platform",
    "bridge_game_store",
    "bridge_game_genre",
    "bridge_game_tag",
    "bridge_game_developer",
    "bridge_game_publisher",
    "dim_tcg_series",
    "dim_tcg_set",
    "dim_tcg_card",
    "bridge_tcg_card_pokemon",
    "fact_tcg_card_prices",
    "dim_pokemon",
    "dim_pokemon_generation",
    "mart_tcg_price_trend_by_generation",
    "mart_top_games_by_platform_year",
}


def test_dbt_build_passes(warehouse):
    build = warehouse.build
    assert build.returncode == 0, build.output[-6000:]
    statuses = Counter(build.statuses().values())
    print(f"\ndbt build: {build.seconds:.1f}s, {dict(statuses)}")
    assert set(statuses) <= {"success", "pass"}, {
        k: v for k, v in build.statuses().items() if v not in ("success", "pass")
    }
    kinds = Counter(uid.split(".")[0] for uid in build.statuses())
    manifest = json.loads(MANIFEST_PATH.read_text())
    assert kinds["model"] == sum(1 for uid in manifest["nodes"] if uid.startswith("model."))
    assert kinds["test"] == sum(1 for uid in manifest["nodes"] if uid.startswith("test."))
    assert kinds["unit_test"] == len(manifest["unit_tests"]) >= 5
    assert kinds["seed"] == sum(1 for uid in manifest["nodes"] if uid.startswith("seed."))


def test_everything_lands_in_the_one_target_schema(warehouse):
    schemas = {
        row[0]
        for row in warehouse.query(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'"
        )
    }
    assert schemas == {"public", "raw", warehouse.schema}
    relations = {
        row[0]
        for row in warehouse.query(
            "select table_name from information_schema.tables where table_schema = %s", (warehouse.schema,)
        )
    }
    assert GOLD_MODELS <= relations


def test_gold_tables_are_populated(warehouse):
    for model in sorted(GOLD_MODELS):
        count = warehouse.scalar(f'select count(*) from "{warehouse.schema}"."{model}"')
        assert count > 0, f"{model} is empty"


def test_incremental_models_are_merge_on_a_unique_key_or_replace_whole_games():
    manifest = json.loads(MANIFEST_PATH.read_text())
    incremental = {
        node["name"]: node["config"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["materialized"] == "incremental"
    }
    bridges = {
        f"bridge_game_{kind}" for kind in ("platform", "store", "genre", "tag", "developer", "publisher")
    }
    dims = {f"dim_{kind}" for kind in ("platform", "store", "genre", "tag", "developer", "publisher")}
    assert {
        "stg_rawg__games",
        "stg_tcgdex__cards",
        "stg_pokemontcg__cards",
        "fact_games",
        "fact_tcg_card_prices",
    } | bridges | dims <= set(incremental)
    for name, config in incremental.items():
        if name in bridges:
            # a changed game's rows are deleted first (all of them: one that lost every element has
            # no row to key a delete+insert on), then its current rows appended; the grain is a unique index
            assert config["incremental_strategy"] == "append", name
            assert [h["sql"] for h in config["pre-hook"]] == [
                "{{ delete_changed_games(ref('stg_rawg__games')) }}"
            ]
            assert any(index["unique"] and index["columns"][0] == "game_id" for index in config["indexes"]), (
                name
            )
        else:
            assert config["incremental_strategy"] == "merge" and config["unique_key"], name
