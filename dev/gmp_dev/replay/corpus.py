"""The recorded payloads (package data under `recordings/`) and the corpus the replay server serves.

Every list endpoint serves the UNION of the items recorded for it across all captures, deduplicated
by id, in order of first appearance. When several captures hold the same item, the one chosen is
stated per source below (the most recent capture where that is knowable). Nothing here invents
data: the only synthetic content (TCGdex prices, minimal details of items whose detail was never
recorded, synthetic RAWG games) lives in `synthetic.py` and is flagged by the server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

RECORDINGS_DIR = Path(__file__).resolve().parent / "recordings"

# Default sizes of the two big lists, so local runs (one detail call per item) stay quick.
DEFAULT_TCGDEX_CARDS = 60
# Only the Pokémon whose detail was recorded, by default: a minimal detail built from the list has
# no types, which breaks the warehouse's contract (every Pokémon has 1-2 types) and, rightly, the
# quality gate. `--pokeapi-pokemon N` adds N minimal ones for volume.
DEFAULT_POKEAPI_POKEMON = 0


def recording_files(api: str, pattern: str = "*.json") -> list[Path]:
    return sorted((RECORDINGS_DIR / api).glob(pattern))


def load_recording(api: str, name: str) -> Any:
    with open(RECORDINGS_DIR / api / name, encoding="utf-8") as handle:
        return json.load(handle)


def load_all(api: str, pattern: str) -> list[Any]:
    return [load_recording(api, path.name) for path in recording_files(api, pattern)]


def _records(payload: Any) -> list[dict[str, Any]]:
    """The records of a payload whatever its envelope (RAWG results, pokemontcg data, bare)."""
    if isinstance(payload, list):
        return payload
    if "results" in payload:
        return payload["results"]
    if "data" in payload:
        data = payload["data"]
        return data if isinstance(data, list) else [data]
    return [payload]


def _union(groups: Iterable[Iterable[dict[str, Any]]], key: str = "id") -> list[dict[str, Any]]:
    """First appearance wins the position and the content."""
    seen: dict[Any, dict[str, Any]] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item[key], item)
    return list(seen.values())


def _stride_sample(items: list[dict[str, Any]], limit: int, must: set[str]) -> list[dict[str, Any]]:
    """About `limit` items spread evenly over the list (variety of sets), plus every `must` id."""
    if limit >= len(items):
        return list(items)
    room = max(limit - len(must), 0)
    picked = {int(k * len(items) / room) for k in range(room)} if room else set()
    return [item for n, item in enumerate(items) if n in picked or item["id"] in must]


# --- RAWG --------------------------------------------------------------------------------------

RAWG_SUB_RESOURCES = ("genres", "platforms", "stores", "tags", "developers", "publishers", "creators")
_RAWG_DETAIL_FILE = {
    "genres": "genre_detail",
    "platforms": "platform_detail",
    "stores": "store_detail",
    "tags": "tag_detail",
    "developers": "developer_detail",
    "publishers": "publisher_detail",
    "creators": "creator_detail",
}


@dataclass
class RawgCorpus:
    games: list[dict[str, Any]]
    game_details: dict[int, dict[str, Any]]
    # Extra keys of the unfiltered /games envelope (seo_title, filters, ...), from a real capture.
    games_envelope_extras: dict[str, Any]
    lists: dict[str, list[dict[str, Any]]]
    details: dict[str, dict[int, dict[str, Any]]]


def _load_rawg() -> RawgCorpus:
    captures = [load_recording("rawg", p.name) for p in recording_files("rawg", "games__*.json")]
    items = [item for capture in captures for item in capture["results"]]
    items += load_recording("rawg", "games_results_array__1.json")
    items.append(load_recording("rawg", "games_result_item__1.json"))
    # The same game captured at different times: keep the most recently `updated` version (the
    # live API only ever shows the current one), at the position of its first appearance.
    latest: dict[int, dict[str, Any]] = {}
    for item in items:
        current = latest.get(item["id"])
        if current is None or (item.get("updated") or "") > (current.get("updated") or ""):
            latest[item["id"]] = item
    games = [latest[game_id] for game_id in dict.fromkeys(item["id"] for item in items)]
    details = {}
    for path in recording_files("rawg", "game_detail__*.json"):
        detail = load_recording("rawg", path.name)
        details[detail["id"]] = detail
    envelope = load_recording("rawg", "games__1.json")
    extras = {k: v for k, v in envelope.items() if k not in {"count", "next", "previous", "results"}}
    lists: dict[str, list[dict[str, Any]]] = {}
    sub_details: dict[str, dict[int, dict[str, Any]]] = {}
    for resource in RAWG_SUB_RESOURCES:
        lists[resource] = _union(
            load_recording("rawg", p.name)["results"] for p in recording_files("rawg", f"{resource}__*.json")
        )
        sub_details[resource] = {
            d["id"]: d
            for d in (
                load_recording("rawg", p.name)
                for p in recording_files("rawg", f"{_RAWG_DETAIL_FILE[resource]}__*.json")
            )
        }
    parents = load_all("rawg", "platforms_lists_parents__*.json")
    lists["platforms/lists/parents"] = _union(p["results"] for p in parents)
    lists["creator-roles"] = load_recording("rawg", "creator_roles__1.json")["results"]
    return RawgCorpus(games, details, extras, lists, sub_details)


# --- TCGdex ------------------------------------------------------------------------------------


@dataclass
class TcgdexCorpus:
    cards: list[dict[str, Any]]  # the served /cards list (briefs)
    all_cards: list[dict[str, Any]]  # the whole recorded list, for set membership
    card_details: dict[str, dict[str, Any]]  # recorded English details
    sets: list[dict[str, Any]]
    set_details: dict[str, dict[str, Any]]
    series: list[dict[str, Any]]
    serie_details: dict[str, dict[str, Any]]
    serie_of_set: dict[str, dict[str, Any]] = field(default_factory=dict)

    def card_set_id(self, card: dict[str, Any]) -> str:
        """`swsh1-136` with localId `136` -> `swsh1` (ids are `<set id>-<localId>`)."""
        suffix = f"-{card['localId']}"
        card_id = card["id"]
        return card_id[: -len(suffix)] if card_id.endswith(suffix) else card_id.rsplit("-", 1)[0]


def _load_tcgdex(card_limit: int) -> TcgdexCorpus:
    all_cards = load_recording("tcgdex", "cards__1.json")
    details: dict[str, dict[str, Any]] = {}
    # English only (cards_detail_fr__1 is the French localisation). The docs example is the only
    # English capture of swsh3-136; newer real captures win over it.
    for path in recording_files("tcgdex", "cards_detail_DOCEXAMPLE__*.json") + recording_files(
        "tcgdex", "cards_detail__*.json"
    ):
        detail = load_recording("tcgdex", path.name)
        details[detail["id"]] = detail
    brief_ids = {c["id"] for c in all_cards}
    # Recorded details newer than the list capture (A1-001): their brief is cut from the detail.
    extra_briefs = [
        {k: d[k] for k in ("id", "localId", "name", "image") if k in d}
        for card_id, d in details.items()
        if card_id not in brief_ids
    ]
    # Always served: every recorded detail, and a real id that needs URL-encoding in a detail path.
    must = (set(details) | {"exu-%3F"}) & brief_ids
    cards = _stride_sample(all_cards, card_limit - len(extra_briefs), must) + extra_briefs
    set_details = {
        d["id"]: d
        for d in (load_recording("tcgdex", p.name) for p in recording_files("tcgdex", "sets_detail__*.json"))
    }
    sets = list(load_recording("tcgdex", "sets__1.json"))
    known_sets = {s["id"] for s in sets}
    for set_id, detail in set_details.items():
        if set_id not in known_sets:
            sets.append(
                {k: detail[k] for k in ("id", "name", "logo", "symbol") if k in detail}
                | {"cardCount": {k: detail["cardCount"][k] for k in ("official", "total")}}
            )
    series = _union(load_recording("tcgdex", p.name) for p in recording_files("tcgdex", "series__*.json"))
    serie_details = {
        d["id"]: d
        for d in (
            load_recording("tcgdex", p.name) for p in recording_files("tcgdex", "series_detail__*.json")
        )
    }
    serie_of_set: dict[str, dict[str, Any]] = {}
    for serie in serie_details.values():
        for brief in serie.get("sets", []):
            serie_of_set[brief["id"]] = {"id": serie["id"], "name": serie["name"]}
    for detail in set_details.values():
        serie_of_set[detail["id"]] = detail["serie"]
    return TcgdexCorpus(cards, all_cards, details, sets, set_details, series, serie_details, serie_of_set)


# --- pokemontcg.io -----------------------------------------------------------------------------


@dataclass
class PokemontcgCorpus:
    cards: list[dict[str, Any]]
    sets: list[dict[str, Any]]

    @property
    def cards_by_id(self) -> dict[str, dict[str, Any]]:
        return {c["id"]: c for c in self.cards}

    @property
    def sets_by_id(self) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in self.sets}


def _load_pokemontcg() -> PokemontcgCorpus:
    # Verbatim captures first, then the docs examples, then the SDK maintainer's hand-merged files
    # (which only contribute cards the verbatim files lack).
    def ordered(pattern: str) -> list[Path]:
        rank = lambda p: (2 if "MERGED" in p.name else 1 if "DOCEXAMPLE" in p.name else 0, p.name)  # noqa: E731
        return sorted(recording_files("pokemontcg", pattern), key=rank)

    cards = _union(_records(load_recording("pokemontcg", p.name)) for p in ordered("card*.json"))
    sets = _union(_records(load_recording("pokemontcg", p.name)) for p in ordered("sets*.json"))
    return PokemontcgCorpus(cards, sets)


# --- PokeAPI -----------------------------------------------------------------------------------


def resource_id(url: str) -> int:
    """`/api/v2/pokemon/10278/` -> 10278."""
    return int(url.rstrip("/").rsplit("/", 1)[1])


@dataclass
class PokeapiCorpus:
    pokemon: list[dict[str, Any]]  # served list items {name, url} (host-relative url)
    pokemon_details: dict[int, dict[str, Any]]
    generations: list[dict[str, Any]]
    generation_details: dict[int, dict[str, Any]]


def _load_pokeapi(pokemon_limit: int) -> PokeapiCorpus:
    everything = load_recording("pokeapi", "pokemon_list__1.json")["results"]
    details: dict[int, dict[str, Any]] = {}
    # File order is latest capture first (pokemon_detail__1 is the 2026 bulbasaur): keep the first.
    for path in recording_files("pokeapi", "pokemon_detail__*.json"):
        detail = load_recording("pokeapi", path.name)
        details.setdefault(detail["id"], detail)
    pokemon = [p for n, p in enumerate(everything) if n < pokemon_limit or resource_id(p["url"]) in details]
    generations = load_recording("pokeapi", "generation_list__1.json")["results"]
    generation_details = {d["id"]: d for d in load_all("pokeapi", "generation_detail__*.json")}
    return PokeapiCorpus(pokemon, details, generations, generation_details)


# --- the whole corpus --------------------------------------------------------------------------


@dataclass
class Corpus:
    rawg: RawgCorpus
    tcgdex: TcgdexCorpus
    pokemontcg: PokemontcgCorpus
    pokeapi: PokeapiCorpus

    def counts(self) -> dict[str, int]:
        """Items each list endpoint serves in full (for docs, logs and tests)."""
        return {
            "rawg/games": len(self.rawg.games),
            **{f"rawg/{name}": len(items) for name, items in self.rawg.lists.items()},
            "tcgdex/cards": len(self.tcgdex.cards),
            "tcgdex/sets": len(self.tcgdex.sets),
            "tcgdex/series": len(self.tcgdex.series),
            "pokemontcg/cards": len(self.pokemontcg.cards),
            "pokemontcg/sets": len(self.pokemontcg.sets),
            "pokeapi/pokemon": len(self.pokeapi.pokemon),
            "pokeapi/generation": len(self.pokeapi.generations),
        }


@cache
def build_corpus(
    tcgdex_cards: int = DEFAULT_TCGDEX_CARDS, pokeapi_pokemon: int = DEFAULT_POKEAPI_POKEMON
) -> Corpus:
    """Loaded once per process and per size; treat the result as read-only."""
    return Corpus(
        rawg=_load_rawg(),
        tcgdex=_load_tcgdex(tcgdex_cards),
        pokemontcg=_load_pokemontcg(),
        pokeapi=_load_pokeapi(pokeapi_pokemon),
    )
