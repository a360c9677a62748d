"""Record model names used in the config (`rawg.Game`) -> pydantic classes, imported lazily."""

from __future__ import annotations

import importlib
from functools import cache

from game_market_pipeline.records.base import ApiRecord

_MODELS: dict[str, str] = {
    "rawg.Game": "game_market_pipeline.records.rawg:Game",
    "rawg.Genre": "game_market_pipeline.records.rawg:Genre",
    "rawg.Platform": "game_market_pipeline.records.rawg:Platform",
    "rawg.Store": "game_market_pipeline.records.rawg:Store",
    "rawg.Tag": "game_market_pipeline.records.rawg:Tag",
    "rawg.Developer": "game_market_pipeline.records.rawg:Developer",
    "rawg.Publisher": "game_market_pipeline.records.rawg:Publisher",
    "tcgdex.Serie": "game_market_pipeline.records.tcgdex:Serie",
    "tcgdex.SetBrief": "game_market_pipeline.records.tcgdex:SetBrief",
    "tcgdex.Card": "game_market_pipeline.records.tcgdex:Card",
    "pokemontcg.Card": "game_market_pipeline.records.pokemontcg:Card",
    "pokemontcg.Set": "game_market_pipeline.records.pokemontcg:Set",
    "pokeapi.Pokemon": "game_market_pipeline.records.pokeapi:Pokemon",
    "pokeapi.Generation": "game_market_pipeline.records.pokeapi:Generation",
}


def known_record_models() -> frozenset[str]:
    return frozenset(_MODELS)


@cache
def record_model(name: str) -> type[ApiRecord]:
    try:
        module_name, class_name = _MODELS[name].split(":")
    except KeyError:
        raise KeyError(f"unknown record model {name!r}; known: {', '.join(sorted(_MODELS))}") from None
    model = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(model, type) and issubclass(model, ApiRecord)):
        raise TypeError(f"{name} -> {model!r} is not an ApiRecord")
    return model
