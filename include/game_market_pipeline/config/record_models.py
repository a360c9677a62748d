"""The record models an endpoint's `record_model` may name, with the class each one resolves to.

Plain data, so the config loader can check names without importing the records package (the config
imports nothing of the project); game_market_pipeline.records.registry imports the classes.
"""

from __future__ import annotations

RECORD_MODELS: dict[str, str] = {
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
    return frozenset(RECORD_MODELS)
