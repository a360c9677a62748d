"""The validation twin gives the model's verdict (extras forbidden) on every recorded item, on the
known broken records and on 12 random mutations of each (~220,000 in all), and refuses models it cannot mirror."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from game_market_pipeline.records.base import ApiRecord
from game_market_pipeline.records.registry import known_record_models, record_model
from game_market_pipeline.records.validation_twin import forbid_extra_validator
from gmp_dev.replay.corpus import recording_files
from gmp_dev.replay.synthetic import SyntheticGames
from tests.unit.test_records import BROKEN, VALIDATION_PLAN, _items

MUTATIONS_PER_ITEM = 12
# Values that break (or, in lax mode, sometimes pass) the usual field types.
ODD_VALUES: list[Any] = [None, "", "x", "12", "2024-13-40", 0, -1, 2**70, 1.5, True, [], {}, [1], {"k": 1}]


def _model_verdict(model: type[BaseModel], raw: Any) -> bool:
    try:
        model.model_validate(raw, extra="forbid")
    except ValidationError:
        return False
    return True


def _twin_verdict(model: type[BaseModel], raw: Any) -> bool:
    twin = forbid_extra_validator(model)
    assert twin is not None
    try:
        twin.validate_python(raw)
    except ValidationError:
        return False
    return True


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every (container path, key or index) in a JSON document."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((prefix, key))
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.append((prefix, index))
            found += _paths(value, (*prefix, index))
    return found


def _mutate(item: Any, rng: random.Random) -> Any:
    """One random change somewhere in the document: a value (or list item) replaced by an odd value,
    a key dropped or renamed, an unknown key added beside it, or the value itself changed: a string's
    '-' turned into '_', anything else wrapped in a list."""
    doc = copy.deepcopy(item)
    paths = _paths(doc)
    if not paths:
        return rng.choice(ODD_VALUES)
    container_path, key = rng.choice(paths)
    container = doc
    for step in container_path:
        container = container[step]
    action = rng.randrange(5)
    if action == 0 or isinstance(container, list):
        container[key] = rng.choice(ODD_VALUES)
    elif action == 1:
        del container[key]
    elif action == 2:
        container[f"{key}_new"] = container.pop(key)
    elif action == 3:
        container["unknown_field"] = rng.choice(ODD_VALUES)
    else:
        value = container[key]
        container[key] = value.replace("-", "_") if isinstance(value, str) else [value]
    return doc


def _items_of(model_name: str) -> list[Any]:
    items = []
    for api, pattern, selector, name in VALIDATION_PLAN:
        if name == model_name:
            for path in recording_files(api, pattern):
                items += _items(path, selector)
    return items


TWINNED = sorted(name for name in known_record_models() if forbid_extra_validator(record_model(name)))


def test_the_hot_models_have_twins() -> None:
    # The ones ingestion spends its time on; a schema change that loses the twin shows up here.
    assert {"rawg.Game", "tcgdex.Card", "pokeapi.Pokemon"} <= set(TWINNED)


@pytest.mark.parametrize("model_name", TWINNED)
def test_twin_agrees_with_the_model(model_name: str) -> None:
    model = record_model(model_name)
    items = _items_of(model_name) + [payload for name, payload in BROKEN if name == model_name]
    assert items
    rng = random.Random(model_name)
    disagreements = []
    verdicts = {True: 0, False: 0}
    for item in items:
        for raw in [item] + [_mutate(item, rng) for _ in range(MUTATIONS_PER_ITEM)]:
            expected = _model_verdict(model, raw)
            verdicts[expected] += 1
            if _twin_verdict(model, raw) != expected:
                disagreements.append((expected, raw))
    assert not disagreements, f"{len(disagreements)} disagreements, first: {disagreements[0]}"
    # The mutations must exercise both verdicts, or agreement proves nothing.
    assert verdicts[True] and verdicts[False], verdicts


def test_twin_agrees_on_synthetic_games() -> None:
    games = orjson.loads(SyntheticGames(400, seed=3).results_bytes(0, 400))
    model = record_model("rawg.Game")
    rng = random.Random(3)
    for game in games:
        assert _twin_verdict(model, game) is True
        mutated = _mutate(game, rng)
        assert _twin_verdict(model, mutated) == _model_verdict(model, mutated), mutated


def test_tcgdex_price_aliases_are_accepted_by_alias_and_by_name() -> None:
    model = record_model("tcgdex.Card")
    base = {"id": "a-1", "localId": "1", "name": "x"}
    for prices in ({"avg-holo": 1.5}, {"avg_holo": 1.5}):
        raw = {**base, "pricing": {"cardmarket": prices}}
        assert _model_verdict(model, raw) is True
        assert _twin_verdict(model, raw) is True
    raw = {**base, "pricing": {"cardmarket": {"avg-holo": "cheap"}}}
    assert _twin_verdict(model, raw) is _model_verdict(model, raw) is False


def test_models_with_validators_get_no_twin() -> None:
    class Checked(ApiRecord):
        id: int

        @field_validator("id")
        @classmethod
        def positive(cls, value: int) -> int:
            if value <= 0:
                raise ValueError("id must be positive")
            return value

    class Holder(ApiRecord):
        inner: Checked

    class StrictRecord(ApiRecord):
        model_config = ConfigDict(strict=True)
        id: int

    assert forbid_extra_validator(StrictRecord) is None
    assert forbid_extra_validator(Checked) is None
    assert forbid_extra_validator(Holder) is None  # a validator anywhere below counts
    assert forbid_extra_validator(record_model("pokemontcg.Card")) is None  # BeforeValidator dates
