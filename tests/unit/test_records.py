"""Record models against every recorded real payload, their quirks, and what must fail.

The recordings are the replay server's package data (dev/gmp_dev/replay/recordings).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from game_market_pipeline.records import pokeapi, pokemontcg, rawg, tcgdex
from game_market_pipeline.records.registry import known_record_models, record_model
from gmp_dev.replay.corpus import RECORDINGS_DIR, recording_files


def _items(path: Path, selector: str) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if selector == "results":
        return data["results"]
    if selector == "data":
        return data["data"] if isinstance(data["data"], list) else [data["data"]]
    return data if isinstance(data, list) else [data]


# (api, file glob, where the records are, record model). Detail payloads validate with the same
# model as list items: the list shape is a subset, the detail adds optional fields.
VALIDATION_PLAN = [
    ("rawg", "games__*.json", "results", "rawg.Game"),
    ("rawg", "games_results_array__*.json", "$", "rawg.Game"),
    ("rawg", "games_result_item__*.json", "$", "rawg.Game"),
    ("rawg", "game_detail__*.json", "$", "rawg.Game"),
    ("rawg", "genres__*.json", "results", "rawg.Genre"),
    ("rawg", "genre_detail__*.json", "$", "rawg.Genre"),
    ("rawg", "platforms__*.json", "results", "rawg.Platform"),
    ("rawg", "platform_detail__*.json", "$", "rawg.Platform"),
    ("rawg", "stores__*.json", "results", "rawg.Store"),
    ("rawg", "store_detail__*.json", "$", "rawg.Store"),
    ("rawg", "tags__*.json", "results", "rawg.Tag"),
    ("rawg", "tag_detail__*.json", "$", "rawg.Tag"),
    ("rawg", "developers__*.json", "results", "rawg.Developer"),
    ("rawg", "developer_detail__*.json", "$", "rawg.Developer"),
    ("rawg", "publishers__*.json", "results", "rawg.Publisher"),
    ("rawg", "publisher_detail__*.json", "$", "rawg.Publisher"),
    ("tcgdex", "series__*.json", "$", "tcgdex.Serie"),
    ("tcgdex", "series_detail__*.json", "$", "tcgdex.Serie"),
    ("tcgdex", "sets__*.json", "$", "tcgdex.SetBrief"),
    ("tcgdex", "sets_detail__*.json", "$", "tcgdex.SetBrief"),
    ("tcgdex", "cards__*.json", "$", "tcgdex.Card"),
    ("tcgdex", "cards_query_name_eq__*.json", "$", "tcgdex.Card"),
    ("tcgdex", "cards_detail*.json", "$", "tcgdex.Card"),
    ("pokemontcg", "cards__*.json", "data", "pokemontcg.Card"),
    ("pokemontcg", "cards_MERGED__*.json", "data", "pokemontcg.Card"),
    ("pokemontcg", "cards_detail*.json", "data", "pokemontcg.Card"),
    ("pokemontcg", "card_object_DOCEXAMPLE__*.json", "$", "pokemontcg.Card"),
    ("pokemontcg", "sets__*.json", "data", "pokemontcg.Set"),
    ("pokemontcg", "sets_detail__*.json", "data", "pokemontcg.Set"),
    ("pokeapi", "pokemon_detail__*.json", "$", "pokeapi.Pokemon"),
    ("pokeapi", "generation_detail__*.json", "$", "pokeapi.Generation"),
]

CASES = [
    pytest.param(path, selector, model, id=f"{api}/{path.name}->{model}")
    for api, pattern, selector, model in VALIDATION_PLAN
    for path in recording_files(api, pattern)
]


def test_every_plan_entry_matches_files() -> None:
    for api, pattern, _, _ in VALIDATION_PLAN:
        assert recording_files(api, pattern), f"no recording matches {api}/{pattern}"


def test_every_record_model_is_exercised() -> None:
    assert {model for *_, model in VALIDATION_PLAN} == set(known_record_models())


@pytest.mark.parametrize(("path", "selector", "model_name"), CASES)
def test_every_recorded_item_validates(path: Path, selector: str, model_name: str) -> None:
    model = record_model(model_name)
    items = _items(path, selector)
    assert items
    failures = []
    for item in items:
        try:
            record = model.model_validate(item)
        except ValidationError as exc:
            failures.append(f"{item.get('id', item.get('name'))}: {exc}")
            continue
        # The models cover everything the recordings carry: no drift on real payloads.
        assert record.unknown_fields() == set(), (item.get("id"), record.unknown_fields())
    assert not failures, "\n".join(failures[:5])


def test_recordings_copied_with_provenance() -> None:
    assert (RECORDINGS_DIR / "PROVENANCE.md").read_text(encoding="utf-8").startswith("# API sample payloads")
    assert (RECORDINGS_DIR / "tcgdex" / "cards__1.json").stat().st_size > 1_000_000
    assert not (RECORDINGS_DIR / "tcgdex" / "hp_item__1.json").exists()


# --- RAWG quirks ------------------------------------------------------------------------------


def _load(api: str, name: str) -> Any:
    return json.loads((RECORDINGS_DIR / api / name).read_text(encoding="utf-8"))


def test_rawg_unreleased_titles_sparse_status_and_empty_ratings() -> None:
    games = {g["id"]: rawg.Game.model_validate(g) for g in _load("rawg", "games__9.json")["results"]}
    tba = games[987698]
    assert tba.released is None and tba.tba is True
    assert tba.ratings == [] and tba.rating == 0.0
    # Sparse: only the statuses with a count are sent.
    assert tba.added_by_status is not None and tba.added_by_status.toplay == 1
    assert tba.added_by_status.playing is None
    assert games[987691].added_by_status is None
    assert games[987515].esrb_rating is not None and games[987515].esrb_rating.slug == "rating-pending"


def test_rawg_list_relations_and_dates() -> None:
    game = rawg.Game.model_validate(_load("rawg", "games_result_item__1.json"))
    assert game.id == 3498 and game.released == date(2013, 9, 17)
    assert isinstance(game.updated, datetime)
    assert game.platforms and {p.platform.id for p in game.platforms} == {186, 187}
    assert game.stores and game.stores[0].store.domain
    assert game.genres and game.tags and game.tags[0].language in {"eng", "rus"}
    assert game.short_screenshots and game.short_screenshots[0].id == -1


def test_rawg_detail_shape_differs_from_list() -> None:
    detail = rawg.Game.model_validate(_load("rawg", "game_detail__1.json"))
    assert detail.stores and detail.stores[0].url == ""
    assert detail.platforms and detail.platforms[0].requirements is not None
    assert detail.developers and detail.publishers
    assert detail.metacritic_platforms and isinstance(detail.metacritic_platforms[0].platform.platform, int)
    assert detail.reactions and all(key.isdigit() for key in detail.reactions)


def test_rawg_esrb_with_localized_names() -> None:
    games = [rawg.Game.model_validate(g) for g in _load("rawg", "games__7.json")["results"]]
    assert any(g.esrb_rating and g.esrb_rating.name_ru for g in games)


# --- TCGdex quirks ----------------------------------------------------------------------------


def test_tcgdex_damage_int_or_string_and_unicode_weakness() -> None:
    doc = tcgdex.Card.model_validate(_load("tcgdex", "cards_detail_DOCEXAMPLE__1.json"))
    assert doc.attacks and doc.attacks[-1].damage == 90
    assert doc.weaknesses and doc.weaknesses[0].value == "×2"
    swsh = tcgdex.Card.model_validate(_load("tcgdex", "cards_detail__2.json"))
    assert swsh.attacks and swsh.attacks[0].damage == "20+"
    assert swsh.dexId and all(isinstance(d, int) for d in swsh.dexId)


def test_tcgdex_absent_keys_and_offsets() -> None:
    pocket = tcgdex.Card.model_validate(_load("tcgdex", "cards_detail__1.json"))
    assert pocket.dexId is None  # absent, not null
    assert pocket.boosters and pocket.updated is not None and pocket.updated.utcoffset() is not None
    brief = {c["id"]: c for c in _load("tcgdex", "cards__1.json")}
    assert any("image" not in c for c in brief.values())
    # A real id that is itself URL-encoded ("?"): the detail path must encode it again.
    assert tcgdex.Card.model_validate(brief["exu-%3F"]).localId == "%3F"


def test_tcgdex_set_detail_and_serie() -> None:
    detail = tcgdex.SetBrief.model_validate(_load("tcgdex", "sets_detail__2.json"))
    assert detail.releaseDate == date(2020, 2, 7) and detail.serie and detail.serie.id == "swsh"
    assert detail.cardCount and detail.cardCount.total and detail.cards
    serie = tcgdex.Serie.model_validate(_load("tcgdex", "series_detail__1.json"))
    assert serie.sets and all(s.id for s in serie.sets)


PRICED_CARD = {
    # Shape as documented in PROVENANCE.md (no attributable real payload exists; values invented).
    "id": "swsh1-1",
    "localId": "1",
    "name": "Celebi V",
    "pricing": {
        "cardmarket": {
            "updated": "2025-08-05T00:42:15.000Z",
            "unit": "EUR",
            "idProduct": 495137,
            "avg": 0.35,
            "low": 0.02,
            "trend": 0.35,
            "avg1": 0.2,
            "avg7": 0.31,
            "avg30": 0.3,
            "avg-holo": 1.2,
            "low-holo": 0.5,
            "trend-holo": 1.1,
            "avg1-holo": 1,
            "avg7-holo": 1.15,
            "avg30-holo": 1.3,
        },
        "tcgplayer": {
            "updated": "2025-08-05T20:07:54.000Z",
            "unit": "USD",
            "normal": {
                "productId": 208034,
                "lowPrice": 0.1,
                "midPrice": 0.3,
                "highPrice": 2,
                "marketPrice": 0.25,
                "directLowPrice": None,
            },
            "reverse": {
                "productId": 208034,
                "lowPrice": 0.2,
                "midPrice": 0.5,
                "highPrice": 3.1,
                "marketPrice": 0.41,
                "directLowPrice": 0.3,
            },
        },
    },
}


def test_tcgdex_pricing_hyphenated_keys_and_variants() -> None:
    card = tcgdex.Card.model_validate(PRICED_CARD)
    assert card.unknown_fields() == set()
    assert card.pricing and card.pricing.cardmarket and card.pricing.cardmarket.avg_holo == 1.2
    assert card.pricing.cardmarket.avg1_holo == 1.0 and card.pricing.cardmarket.unit == "EUR"
    tcgplayer = card.pricing.tcgplayer
    assert tcgplayer and tcgplayer.normal and tcgplayer.normal.directLowPrice is None
    assert set(tcgplayer.variant_prices()) == {"normal", "reverse"}


@pytest.mark.parametrize("provider", ["cardmarket", "tcgplayer"])
def test_tcgdex_pricing_provider_null_or_absent(provider: str) -> None:
    nulled = copy.deepcopy(PRICED_CARD)
    nulled["pricing"][provider] = None
    assert getattr(tcgdex.Card.model_validate(nulled).pricing, provider) is None
    del nulled["pricing"][provider]
    assert getattr(tcgdex.Card.model_validate(nulled).pricing, provider) is None


def test_tcgdex_new_tcgplayer_variant_is_drift_but_readable() -> None:
    card = copy.deepcopy(PRICED_CARD)
    card["pricing"]["tcgplayer"]["shadowless"] = {"productId": 1, "marketPrice": 9.5}
    parsed = tcgdex.Card.model_validate(card)
    assert parsed.unknown_fields() == {"pricing.tcgplayer.shadowless"}
    assert parsed.pricing and parsed.pricing.tcgplayer
    assert parsed.pricing.tcgplayer.variant_prices()["shadowless"].marketPrice == 9.5


# --- pokemontcg.io quirks ---------------------------------------------------------------------


def _ptcg_cards() -> dict[str, pokemontcg.Card]:
    return {c["id"]: pokemontcg.Card.model_validate(c) for c in _load("pokemontcg", "cards__3.json")["data"]}


def test_pokemontcg_strings_and_null_damage() -> None:
    cards = _ptcg_cards()
    assert cards["mcd19-3"].attacks and any(a.damage is None for a in cards["mcd19-3"].attacks)
    assert all(isinstance(c.hp, str) for c in cards.values())
    assert any(a.damage == "" for c in cards.values() for a in (c.attacks or []))


def test_pokemontcg_slash_dates_and_variant_prices() -> None:
    card = pokemontcg.Card.model_validate(_load("pokemontcg", "cards__4.json")["data"][0])
    assert card.tcgplayer and card.tcgplayer.updatedAt == date(2024, 3, 29)
    known = {
        "normal",
        "holofoil",
        "reverseHolofoil",
        "1stEditionHolofoil",
        "1stEditionNormal",
        "unlimitedHolofoil",
    }
    assert card.tcgplayer.prices and set(card.tcgplayer.prices) <= known
    assert card.cardmarket and card.cardmarket.prices and card.cardmarket.prices.trendPrice is not None
    assert card.set and card.set.updatedAt and card.set.updatedAt.year >= 2020
    assert isinstance(card.set.releaseDate, date)


def test_pokemontcg_cardmarket_int_or_float() -> None:
    parsed = pokemontcg.CardmarketPrices.model_validate({"avg1": 2, "avg7": 2.5, "germanProLow": None})
    assert parsed.avg1 == 2.0 and parsed.avg7 == 2.5 and parsed.germanProLow is None


def test_pokemontcg_older_capture_has_no_cardmarket() -> None:
    assert all(c.cardmarket is None for c in _ptcg_cards().values())


# --- PokeAPI quirks ---------------------------------------------------------------------------


def test_pokeapi_nullable_base_experience_and_schema_drift() -> None:
    mega = pokeapi.Pokemon.model_validate(_load("pokeapi", "pokemon_detail__4.json"))
    assert mega.base_experience is None and mega.cries and mega.cries.legacy is None
    assert mega.species and mega.species.name == "clefable"
    old = pokeapi.Pokemon.model_validate(_load("pokeapi", "pokemon_detail__2.json"))
    assert old.cries is None and old.past_types is None
    assert old.types and {t.type.name for t in old.types} == {"grass", "poison"}


def test_pokeapi_generation_empty_abilities() -> None:
    gen1 = pokeapi.Generation.model_validate(_load("pokeapi", "generation_detail__1.json"))
    assert gen1.abilities == [] and gen1.main_region and gen1.main_region.name == "kanto"
    assert gen1.pokemon_species and len(gen1.pokemon_species) == 151


def test_pokeapi_minimal_detail_validates() -> None:
    """What the replay server builds for Pokémon whose detail was not recorded."""
    minimal = {"id": 25, "name": "pikachu", "species": {"name": "pikachu", "url": "/x/"}, "types": []}
    assert pokeapi.Pokemon.model_validate(minimal).types == []


# --- what must fail ---------------------------------------------------------------------------

BROKEN: list[tuple[str, dict[str, Any]]] = [
    ("rawg.Game", {"id": "3498", "name": "GTA V"}),
    ("rawg.Game", {"id": {"oops": 1}, "name": "GTA V"}),
    ("rawg.Game", {"id": True, "name": "GTA V"}),
    ("rawg.Game", {"name": "GTA V"}),
    ("rawg.Game", {"id": 1, "name": None}),
    ("rawg.Game", {"id": 1, "name": "x", "released": "not a date"}),
    ("rawg.Game", {"id": 1, "name": "x", "platforms": [{"platform": {"id": "4", "name": "PC"}}]}),
    ("rawg.Genre", {"id": 4.5, "name": "Action"}),
    ("rawg.Platform", {"id": 4}),
    ("tcgdex.Card", {"id": 1, "localId": "1", "name": "x"}),
    ("tcgdex.Card", {"id": "a-1", "name": "x"}),
    ("tcgdex.Card", {"id": "a-1", "localId": 1, "name": "x"}),
    ("tcgdex.Card", {"id": "a-1", "localId": "1", "name": "x", "pricing": {"cardmarket": {"avg": "cheap"}}}),
    ("tcgdex.SetBrief", {"id": ["A1"], "name": "x"}),
    ("tcgdex.Serie", {"name": "Base"}),
    ("pokemontcg.Card", {"id": "xy7-57", "name": "x", "hp": 130}),
    ("pokemontcg.Card", {"id": 57, "name": "x"}),
    ("pokemontcg.Card", {"id": "xy7-57", "name": "x", "tcgplayer": {"prices": {"normal": {"low": "n/a"}}}}),
    ("pokemontcg.Set", {"id": "g1", "name": "x", "releaseDate": "someday"}),
    ("pokeapi.Pokemon", {"id": "1", "name": "bulbasaur"}),
    ("pokeapi.Pokemon", {"id": 1}),
    ("pokeapi.Generation", {"id": None, "name": "generation-i"}),
]
_BROKEN_IDS = [f"{model}-{i}" for i, (model, _) in enumerate(BROKEN)]


@pytest.mark.parametrize(("model_name", "payload"), BROKEN, ids=_BROKEN_IDS)
def test_broken_records_fail(model_name: str, payload: dict) -> None:
    with pytest.raises(ValidationError):
        record_model(model_name).model_validate(payload)


def test_unknown_fields_are_kept_and_reported_at_any_depth() -> None:
    item = copy.deepcopy(_load("rawg", "games_result_item__1.json"))
    item["loot_boxes"] = True
    item["platforms"][0]["platform"]["handheld"] = False
    item["esrb_rating"]["age"] = 18
    game = rawg.Game.model_validate(item)
    assert game.unknown_fields() == {"loot_boxes", "platforms[].platform.handheld", "esrb_rating.age"}
    assert game.model_extra == {"loot_boxes": True}


def test_unknown_field_in_keyed_prices_is_reported() -> None:
    card = copy.deepcopy(_load("pokemontcg", "cards__4.json")["data"][0])
    card["tcgplayer"]["prices"]["normal"] = {"low": 1.0, "currency": "USD"}
    assert pokemontcg.Card.model_validate(card).unknown_fields() == {"tcgplayer.prices.*.currency"}


def test_pydantic_datetime_offsets_are_kept() -> None:
    payload = {"id": "a-1", "localId": "1", "name": "x", "updated": "2025-01-01T00:00:00Z"}
    card = tcgdex.Card.model_validate(payload)
    assert card.updated == datetime(2025, 1, 1, tzinfo=UTC)
