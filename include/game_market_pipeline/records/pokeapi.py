"""PokeAPI (pokeapi.co/api/v2) records: pokemon and generation DETAILS (the endpoints fan out by name).

Quirks (dev/gmp_dev/replay/recordings/pokeapi, PROVENANCE.md):

- Schema drift across captures of the same Pokémon: 2018 has 17 keys, 2021 adds `past_types`,
  2026 adds `cries`, `past_abilities`, `past_stats`. Those are optional here.
- `base_experience` is null for new megas; `cries.legacy` can be null.
- `sprites` is a deep tree of nullable URLs with dashed keys (`generation-i`, `red-blue`) and
  `moves` is hundreds of entries: both are kept raw (typed loosely), the warehouse reads neither.
- The static api-data copy uses host-relative URLs (`/api/v2/type/12/`); the live API absolute
  ones. Both are plain strings here.
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictInt

from game_market_pipeline.records.base import ApiRecord


class NamedResource(ApiRecord):
    name: str
    url: str | None = None


class PokemonType(ApiRecord):
    slot: int
    type: NamedResource


class PokemonAbility(ApiRecord):
    ability: NamedResource | None = None
    is_hidden: bool | None = None
    slot: int | None = None


class PokemonStat(ApiRecord):
    base_stat: int
    effort: int | None = None
    stat: NamedResource


class Cries(ApiRecord):
    latest: str | None = None
    legacy: str | None = None


class Pokemon(ApiRecord):
    id: StrictInt
    name: str
    base_experience: int | None = None
    height: int | None = None
    weight: int | None = None
    order: int | None = None
    is_default: bool | None = None
    species: NamedResource | None = None
    types: list[PokemonType] | None = None
    past_types: list[dict[str, Any]] | None = None
    abilities: list[PokemonAbility] | None = None
    past_abilities: list[dict[str, Any]] | None = None
    stats: list[PokemonStat] | None = None
    past_stats: list[dict[str, Any]] | None = None
    forms: list[NamedResource] | None = None
    game_indices: list[dict[str, Any]] | None = None
    held_items: list[dict[str, Any]] | None = None
    moves: list[dict[str, Any]] | None = None
    sprites: dict[str, Any] | None = None
    cries: Cries | None = None
    location_area_encounters: str | None = None


class LocalizedName(ApiRecord):
    name: str
    language: NamedResource | None = None


class Generation(ApiRecord):
    id: StrictInt
    name: str
    main_region: NamedResource | None = None
    names: list[LocalizedName] | None = None
    abilities: list[NamedResource] | None = None
    moves: list[NamedResource] | None = None
    pokemon_species: list[NamedResource] | None = None
    types: list[NamedResource] | None = None
    version_groups: list[NamedResource] | None = None
