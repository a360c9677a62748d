"""The shared config: models, defaults merging, and errors that name file, endpoint and field."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, load_config, parse_config
from game_market_pipeline.config.schema_export import main as export_schema
from game_market_pipeline.exceptions import ConfigError

REQUIRED = {
    "rawg": {"games", "genres", "platforms", "stores", "tags", "developers", "publishers"},
    "tcgdex": {"series", "sets", "cards"},
    "pokemontcg": {"cards", "sets"},
    "pokeapi": {"pokemon", "generation"},
}


@pytest.fixture
def raw_config() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def test_shipped_config_is_valid_and_has_every_required_endpoint():
    loaded = load_config()
    assert loaded.problems == ()
    configured = {(e.source, e.name) for e in loaded.endpoints}
    assert {(s, e) for s, names in REQUIRED.items() for e in names} <= configured


def test_endpoint_inherits_source_defaults_and_overrides_them():
    loaded = load_config()
    games = loaded.endpoint("rawg", "games")
    genres = loaded.endpoint("rawg", "genres")
    assert games.paginator.kind == "next_link" and games.record_selector == "results"
    assert games.params == {"page_size": 40} and games.schedule == "@daily"
    assert genres.schedule == "@monthly"  # endpoint override wins
    assert games.incremental is not None and genres.incremental is None
    cards = loaded.endpoint("tcgdex", "cards")
    assert cards.fan_out is not None and cards.fan_out.path == "/cards/{id}"
    assert cards.dag_id == "ingest__tcgdex__cards" and cards.table_name == "tcgdex__cards"


def test_models_are_frozen_and_forbid_unknown_keys(raw_config):
    loaded = load_config()
    with pytest.raises(ValidationError, match="frozen"):
        loaded.endpoints[0].name = "other"  # type: ignore[misc]
    raw_config["sources"][0]["endpoints"][1]["pagesize"] = 10
    problems = parse_config(raw_config, Path("endpoints.yaml")).problems
    assert len(problems) == 1
    assert "endpoint 'genres'" in str(problems[0]) and "pagesize" in str(problems[0])


def test_one_bad_endpoint_is_reported_and_the_others_still_load(raw_config):
    bad = copy.deepcopy(raw_config)
    games = bad["sources"][0]["endpoints"][0]
    games["paginator"] = {"kind": "cursorz"}
    bad["sources"][1]["endpoints"][0]["quarantine_threshold"] = 7
    loaded = parse_config(bad, Path("include/config/endpoints.yaml"))
    messages = [str(p) for p in loaded.problems]
    assert len(messages) == 2, messages
    assert any(
        "source 'rawg', endpoint 'games', field 'paginator'" in m
        and "cursorz" in m
        and "page_number" in m
        and "next_link" in m
        and "offset" in m
        for m in messages
    ), messages
    assert any("endpoint 'series'" in m and "quarantine_threshold" in m for m in messages), messages
    assert all(m.startswith("include/config/endpoints.yaml") for m in messages)
    ids = {e.dag_id for e in loaded.endpoints}
    assert "ingest__rawg__games" not in ids and "ingest__tcgdex__series" not in ids
    assert "ingest__rawg__genres" in ids and len(ids) == len(load_config().endpoints) - 2
    with pytest.raises(ConfigError, match="2 problem"):
        loaded.raise_for_problems()


def test_unknown_record_model_and_missing_required_fields(raw_config):
    raw_config["sources"][2]["endpoints"][0]["record_model"] = "pokemontcg.Nope"
    del raw_config["sources"][3]["endpoints"][1]["path"]
    problems = [str(p) for p in parse_config(raw_config, Path("f.yaml")).problems]
    assert any("endpoint 'cards'" in p and "record_model" in p and "pokemontcg.Card" in p for p in problems)
    assert any("endpoint 'generation'" in p and "field 'path'" in p for p in problems)


def test_bad_identifier_and_duplicate_endpoint(raw_config):
    raw_config["sources"][0]["endpoints"][2]["name"] = "Platforms; DROP TABLE x"
    raw_config["sources"][1]["endpoints"].append(dict(raw_config["sources"][1]["endpoints"][0]))
    problems = [str(p) for p in parse_config(raw_config, Path("f.yaml")).problems]
    assert any("field 'name'" in p and "pattern" in p for p in problems)
    assert any("duplicate endpoint name 'series'" in p for p in problems)


def test_missing_file_and_broken_yaml(tmp_path):
    assert "file not found" in str(load_config(tmp_path / "none.yaml").problems[0])
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n")
    assert load_config(broken).problems[0].field == "<yaml>"


def test_json_schema_export(tmp_path):
    out = tmp_path / "schema.json"
    assert export_schema(["-o", str(out)]) == 0
    schema = json.loads(out.read_text())
    assert schema["additionalProperties"] is False
    assert "sources" in schema["properties"]
    endpoint_def = schema["$defs"]["EndpointConfig"]
    assert endpoint_def["additionalProperties"] is False and "fan_out" in endpoint_def["properties"]


def test_lake_bucket_env_override(monkeypatch):
    loaded = load_config()
    assert loaded.lake_bucket == "game-market-lake"
    monkeypatch.setenv("LAKE_BUCKET", "other-bucket")
    assert loaded.lake_bucket == "other-bucket"


def test_committed_json_schema_is_current():
    """Editors and pre-commit read include/config/endpoints.schema.json: regenerate with `make schema`."""
    committed = json.loads((DEFAULT_CONFIG_PATH.parent / "endpoints.schema.json").read_text())
    from game_market_pipeline.config.schema_export import config_json_schema

    assert committed == json.loads(json.dumps(config_json_schema())), "stale: run `make schema`"


def test_shipped_config_validates_against_the_exported_schema():
    import jsonschema

    schema = json.loads((DEFAULT_CONFIG_PATH.parent / "endpoints.schema.json").read_text())
    jsonschema.validate(yaml.safe_load(DEFAULT_CONFIG_PATH.read_text()), schema)


def test_load_config_leaves_the_garbage_collector_as_it_found_it():
    import gc

    assert gc.isenabled()
    assert load_config().problems == () and gc.isenabled()
    gc.disable()
    try:
        load_config()
        assert not gc.isenabled()  # a caller's own pause is not ended for it
    finally:
        gc.enable()


# --- config errors stay local (docs/CONFIG_ERRORS.md) ---


def _ids(loaded) -> set[str]:
    return {e.dag_id for e in loaded.endpoints}


def test_a_broken_source_drops_only_that_sources_endpoints(raw_config):
    everything = _ids(parse_config(raw_config, Path("f.yaml")))
    rawg = {f"ingest__rawg__{e['name']}" for e in raw_config["sources"][0]["endpoints"]}
    raw_config["sources"][0]["defaults"]["rate_limit"] = {"requests_per_second": "fast"}
    loaded = parse_config(raw_config, Path("f.yaml"))
    assert loaded.config is not None
    assert _ids(loaded) == everything - rawg and rawg
    problems = [str(p) for p in loaded.problems]
    assert problems == [
        "f.yaml, source 'rawg', field 'defaults.rate_limit.requests_per_second': "
        "Input should be a valid number, unable to parse string as a number"
    ]
    assert {f"ingest__{s}__{e}" for s, e in loaded.left_out} == rawg


def test_a_bad_source_setting_drops_its_source_even_when_its_endpoints_are_fine(raw_config):
    raw_config["sources"][1]["auth"] = {"kind": "header"}  # no header name
    loaded = parse_config(raw_config, Path("f.yaml"))
    assert not any(e.source == "tcgdex" for e in loaded.endpoints)
    assert {e.source for e in loaded.endpoints} == {"rawg", "pokemontcg", "pokeapi"}
    (problem,) = loaded.problems
    assert problem.source == "tcgdex" and problem.endpoint is None and problem.field == "auth"


def test_a_duplicate_endpoint_name_drops_only_the_duplicates_and_says_which(raw_config):
    everything = _ids(parse_config(raw_config, Path("f.yaml")))
    tcgdex = raw_config["sources"][1]["endpoints"]
    tcgdex.append({**tcgdex[0], "path": "/series-again"})
    loaded = parse_config(raw_config, Path("f.yaml"))
    assert _ids(loaded) == everything - {"ingest__tcgdex__series"}
    assert loaded.left_out == (("tcgdex", "series"),)
    assert [str(p) for p in loaded.problems] == [
        "f.yaml, source 'tcgdex', endpoint 'series', field 'name': duplicate endpoint name 'series': "
        f"used 2 times in source 'tcgdex' (entries #0, #{len(tcgdex) - 1}, counted from 0); "
        "none of them is loaded until the name is unique"
    ]


def test_a_duplicate_source_name_drops_only_the_sources_of_that_name(raw_config):
    raw_config["sources"].append(copy.deepcopy(raw_config["sources"][3]))  # pokeapi twice
    loaded = parse_config(raw_config, Path("f.yaml"))
    assert {e.source for e in loaded.endpoints} == {"rawg", "tcgdex", "pokemontcg"}
    assert [(p.source, p.field) for p in loaded.problems] == [("pokeapi", "name")]
    assert "duplicate source name 'pokeapi': used 2 times (entries #3, #4" in loaded.problems[0].message
    pokeapi = {(s, e["name"]) for s in ["pokeapi"] for e in raw_config["sources"][3]["endpoints"]}
    assert set(loaded.left_out) == pokeapi and len(loaded.left_out) == len(pokeapi)


def test_every_source_broken_leaves_no_config_and_no_noise(raw_config):
    for source in raw_config["sources"]:
        source["base_url"] = 5
    loaded = parse_config(raw_config, Path("f.yaml"))
    assert loaded.config is None and loaded.endpoints == ()
    assert [(p.source, p.field) for p in loaded.problems] == [
        (s["name"], "base_url") for s in raw_config["sources"]
    ]


def test_a_yaml_syntax_error_is_one_problem_naming_file_and_line(tmp_path):
    lines = DEFAULT_CONFIG_PATH.read_text().splitlines()
    broken_line = next(i for i, line in enumerate(lines) if "name: genres" in line)
    lines[broken_line] = lines[broken_line].replace("{name: genres", "{name: [genres")
    path = tmp_path / "endpoints.yaml"
    path.write_text("\n".join(lines) + "\n")
    loaded = load_config(path)
    (problem,) = loaded.problems
    assert loaded.config is None and problem.field == "<yaml>"
    assert str(problem).startswith(f"{path}, field '<yaml>': the file does not parse as YAML: line ")
    # The line an editor shows (1-based), not PyYAML's 0-based mark.
    line = int(problem.message.split("line ")[1].split(",")[0])
    assert broken_line + 1 <= line <= broken_line + 2, (broken_line, problem.message)
    assert "<unicode string>" not in problem.message


@pytest.mark.parametrize("where", ["endpoint", "source defaults"])
def test_a_removed_setting_is_refused_naming_the_field(raw_config, where):
    rawg = next(s for s in raw_config["sources"] if s["name"] == "rawg")
    target = rawg["endpoints"][0] if where == "endpoint" else rawg.setdefault("defaults", {})
    target["check_processes"] = 2
    loaded = parse_config(raw_config, Path("endpoints.yaml"))
    problems = [p for p in loaded.problems if p.field.endswith("check_processes")]
    assert problems, loaded.problems
    assert "`check_processes` was removed" in str(problems[0]) and "delete this setting" in str(problems[0])
