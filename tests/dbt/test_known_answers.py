"""Known answers: gold rows for a handful of recorded games, cards and Pokémon, equal to values read
by hand from the payloads (the file each value comes from is named next to it).

The fixture's ingestion order decides which capture is a record's latest version (raw_fixture.py):
for game 3498 that is rawg/game_detail__1.json, for 58175 rawg/games_results_array__1.json.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tests.dbt.keys import md5_key

pytestmark = pytest.mark.integration


def one(warehouse, statement, params=None):
    rows = warehouse.query(statement, params)
    assert len(rows) == 1, rows
    return rows[0]


def ids(warehouse, bridge: str, id_column: str, game_id: int) -> set[int]:
    return {
        r[0]
        for r in warehouse.query(
            f"select {id_column} from {{schema}}.{bridge} where game_key = %s", (md5_key(game_id),)
        )
    }


# --- RAWG -------------------------------------------------------------------------------------------


def test_gta_v_fact_row(warehouse):
    # rawg/game_detail__1.json: id 3498, released 2013-09-17, rating 4.47, ratings_count 6847,
    # metacritic 92, playtime 74, added 21078, reviews_count 6953, esrb {id 4, Mature}, updated 2024-08-10T17:43:58
    row = one(
        warehouse,
        """
        select game_key, game_name, release_date_key, rating, ratings_count, metacritic, playtime_hours,
               added_count, reviews_count, esrb_rating_key, updated_at
        from {schema}.fact_games where game_id = 3498""",
    )
    assert row == (
        md5_key(3498),
        "Grand Theft Auto V",
        20130917,
        Decimal("4.47"),
        6847,
        92,
        74,
        21078,
        6953,
        md5_key(4),
        datetime(2024, 8, 10, 17, 43, 58, tzinfo=UTC),
    )
    assert one(
        warehouse,
        "select esrb_rating_slug, minimum_age from {schema}.dim_esrb_rating where esrb_rating_key = %s",
        (md5_key(4),),
    ) == ("mature", 17)
    assert one(warehouse, "select date_day from {schema}.dim_date where date_key = 20130917") == (
        date(2013, 9, 17),
    )


def test_gta_v_bridges(warehouse):
    # rawg/game_detail__1.json platforms / stores / genres / developers / publishers / tags
    assert ids(warehouse, "bridge_game_platform", "platform_id", 3498) == {1, 4, 14, 16, 18, 186, 187}
    assert ids(warehouse, "bridge_game_store", "store_id", 3498) == {1, 2, 3, 7, 11}
    assert ids(warehouse, "bridge_game_genre", "genre_id", 3498) == {4}
    assert ids(warehouse, "bridge_game_developer", "developer_id", 3498) == {3524, 10}
    assert ids(warehouse, "bridge_game_publisher", "publisher_id", 3498) == {2155}
    assert len(ids(warehouse, "bridge_game_tag", "tag_id", 3498)) == 19
    names = {
        r[0]
        for r in warehouse.query(
            "select p.platform_name from {schema}.bridge_game_platform b "
            "join {schema}.dim_platform p using (platform_key) where b.game_key = %s",
            (md5_key(3498),),
        )
    }
    # "Xbox Series S/X" is spelled canonically (seed platform_aliases)
    assert names == {
        "Xbox One",
        "PC",
        "Xbox 360",
        "PlayStation 3",
        "PlayStation 4",
        "Xbox Series X|S",
        "PlayStation 5",
    }
    developer = one(
        warehouse,
        "select developer_name, is_listed from {schema}.dim_developer where developer_key = %s",
        (md5_key(3524),),
    )
    assert developer == ("Rockstar North", False)  # named only by the game detail, not in /developers page 1


def test_god_of_war_from_a_list_item(warehouse):
    # rawg/games_results_array__1.json item 58175: released 2018-04-20, rating 4.55, ratings_count 5037,
    # metacritic 94, Mature; platforms PC (4), PS4 (18); genre Action (4); stores 1, 3, 5, 11; 27 tags;
    # a list item has no developers/publishers.
    row = one(
        warehouse,
        "select game_name, release_date_key, rating, ratings_count, metacritic, esrb_rating_key "
        "from {schema}.fact_games where game_id = 58175",
    )
    assert row == ("God of War (2018)", 20180420, Decimal("4.55"), 5037, 94, md5_key(4))
    assert ids(warehouse, "bridge_game_platform", "platform_id", 58175) == {4, 18}
    assert ids(warehouse, "bridge_game_genre", "genre_id", 58175) == {4}
    assert ids(warehouse, "bridge_game_store", "store_id", 58175) == {1, 3, 5, 11}
    assert len(ids(warehouse, "bridge_game_tag", "tag_id", 58175)) == 27
    assert ids(warehouse, "bridge_game_developer", "developer_id", 58175) == set()


def test_every_recorded_game_is_one_fact_row(warehouse):
    # 9 /games pages + 1 item + 1 results array + 3 details hold 114 distinct game ids (counted from the files)
    assert warehouse.scalar("select count(*) from {schema}.fact_games") == 114
    assert warehouse.scalar("select count(distinct _record_key) from raw.rawg__games") == 114


# --- Trading cards ----------------------------------------------------------------------------------

CHARIZARD_PRICES = {
    # CONSTRUCTED TCGdex pricing (raw_fixture.constructed_charizard(0)): day 2026-01-05
    ("tcgdex", "cardmarket", "normal", date(2026, 1, 5)): (
        "EUR",
        None,
        None,
        Decimal("8.0"),
        Decimal("9.5"),
        Decimal("10.25"),
    ),
    ("tcgdex", "cardmarket", "holofoil", date(2026, 1, 5)): (
        "EUR",
        None,
        None,
        Decimal("12.5"),
        Decimal("14.0"),
        Decimal("15.5"),
    ),
    ("tcgdex", "tcgplayer", "normal", date(2026, 1, 5)): (
        "USD",
        Decimal("3.5"),
        Decimal("12.99"),
        Decimal("1.75"),
        Decimal("2.8"),
        None,
    ),
    ("tcgdex", "tcgplayer", "reverse_holofoil", date(2026, 1, 5)): (
        "USD",
        Decimal("9.0"),
        Decimal("100.0"),
        Decimal("3.0"),
        Decimal("3.9"),
        None,
    ),
    # pokemontcg/card_object_DOCEXAMPLE__1.json (swsh4-25): tcgplayer 2021/08/04, cardmarket 2021/08/04
    ("pokemontcg", "tcgplayer", "normal", date(2021, 8, 4)): (
        "USD",
        Decimal("3.54"),
        Decimal("12.99"),
        Decimal("1.73"),
        Decimal("2.82"),
        None,
    ),
    ("pokemontcg", "tcgplayer", "reverse_holofoil", date(2021, 8, 4)): (
        "USD",
        Decimal("8.99"),
        Decimal("100"),
        Decimal("3"),
        Decimal("3.89"),
        None,
    ),
    ("pokemontcg", "cardmarket", "normal", date(2021, 8, 4)): (
        "EUR",
        None,
        None,
        Decimal("8.95"),
        Decimal("9.38"),
        Decimal("10.29"),
    ),
    # its reverseHolo* Cardmarket prices are all null: no row
}


def test_charizard_is_one_card_across_both_apis(warehouse):
    row = one(
        warehouse,
        """
        select card_key, set_key, card_name, tcgdex_card_id, pokemontcg_card_id, match_status, name_agrees,
               types_label, national_dex_ids, primary_pokemon_key
        from {schema}.dim_tcg_card where set_code = 'swsh4' and card_number = '25'""",
    )
    assert row == (
        md5_key("swsh4", "25"),
        md5_key("swsh4"),
        "Charizard",
        "swsh4-25",
        "swsh4-25",
        "both",
        True,
        "Fire",
        [6],
        None,
    )  # dex 6 is not among the recorded PokeAPI pokemon


def test_charizard_prices(warehouse):
    rows = warehouse.query(
        """
        select source_api, market, price_variant, price_date, currency, mid_price, high_price, low_price,
               market_price, trend_price, card_price_key
        from {schema}.fact_tcg_card_prices where card_key = %s""",
        (md5_key("swsh4", "25"),),
    )
    actual = {r[:4]: r[4:10] for r in rows}
    assert actual == CHARIZARD_PRICES
    for r in rows:
        assert r[10] == md5_key("swsh4", "25", r[2], r[1], r[0], r[3].isoformat())


def test_ampharos_daily_price_history(warehouse):
    # pokemontcg pl1-1 across captures: cards__1 / cards_MERGED__1 tcgplayer 2021/03/12,
    # cards__3 / cards_detail__2 tcgplayer 2021/06/09, cards_MERGED__1 cardmarket 2021/08/06.
    rows = warehouse.query(
        """
        select market, price_variant, price_date, low_price, mid_price, high_price, market_price,
               direct_low_price, trend_price, avg1_price, avg7_price, avg30_price
        from {schema}.fact_tcg_card_prices where card_key = %s order by 1, 2, 3""",
        (md5_key("pl1", "1"),),
    )
    d = Decimal
    assert rows == [
        (
            "cardmarket",
            "normal",
            date(2021, 8, 6),
            d("0.2"),
            None,
            None,
            d("1.16"),
            None,
            d("1.75"),
            d("0.75"),
            d("1.74"),
            d("1.65"),
        ),
        (
            "cardmarket",
            "reverse_holofoil",
            date(2021, 8, 6),
            d("0.49"),
            None,
            None,
            d("1.25"),
            None,
            d("1.7"),
            d("1.5"),
            d("1.91"),
            d("1.81"),
        ),
        (
            "tcgplayer",
            "holofoil",
            date(2021, 3, 12),
            d("5.68"),
            d("7.04"),
            d("8.99"),
            d("3.56"),
            None,
            None,
            None,
            None,
            None,
        ),
        (
            "tcgplayer",
            "holofoil",
            date(2021, 6, 9),
            d("6.75"),
            d("8.49"),
            d("14.98"),
            d("6.85"),
            d("14.98"),
            None,
            None,
            None,
            None,
        ),
        (
            "tcgplayer",
            "reverse_holofoil",
            date(2021, 3, 12),
            d("5.58"),
            d("10.29"),
            d("15.0"),
            d("2.16"),
            None,
            None,
            None,
            None,
            None,
        ),
        (
            "tcgplayer",
            "reverse_holofoil",
            date(2021, 6, 9),
            d("5.71"),
            d("14.0"),
            d("14.98"),
            d("2.12"),
            None,
            None,
            None,
            None,
            None,
        ),
    ]


def test_cufant_cardmarket_only_pricing(warehouse):
    # CONSTRUCTED newer version of tcgdex/cards_detail__2.json with `tcgplayer: null` and null "-holo" keys
    rows = warehouse.query(
        "select source_api, market, price_variant, low_price, market_price, trend_price "
        "from {schema}.fact_tcg_card_prices where card_key = %s",
        (md5_key("swsh1", "136"),),
    )
    assert rows == [("tcgdex", "cardmarket", "normal", Decimal("0.02"), Decimal("0.08"), Decimal("0.09"))]


def test_card_to_pokemon_links(warehouse):
    links = {
        r[0]: r[1:]
        for r in warehouse.query("""
        select c.tcgdex_card_id || '/' || coalesce(c.pokemontcg_card_id, '-'), b.pokemon_key, b.link_method,
               b.national_dex_id
        from {schema}.bridge_tcg_card_pokemon b join {schema}.dim_tcg_card c using (card_key)
        where c.tcgdex_card_id is not null or c.pokemontcg_card_id in ('det1-1', 'bw5-1')""")
        if r[0] is not None
    }
    # tcgdex/cards_detail__1.json A1-001 "Bulbasaur" has no dexId: linked by standardised name
    assert links["A1-001/-"] == (md5_key(1), "name", 1)
    det1 = one(
        warehouse,
        "select primary_pokemon_key, pokemon_link_method from {schema}.dim_tcg_card "
        "where pokemontcg_card_id = 'det1-1'",
    )
    assert det1 == (md5_key(1), "dex_id")  # pokemontcg cards__1.json det1-1 nationalPokedexNumbers [1]
    tag_team = one(
        warehouse,
        "select national_dex_ids, primary_pokemon_key from {schema}.dim_tcg_card "
        "where pokemontcg_card_id = 'sm9-1'",
    )
    assert tag_team == ([3, 251], None)  # Celebi & Venusaur-GX: neither species recorded in PokeAPI samples


def test_set_matching(warehouse):
    rows = {
        r[0]: r[1:]
        for r in warehouse.query("""
        select set_code, tcgdex_set_id, pokemontcg_set_id, match_status, s.series_code
        from {schema}.dim_tcg_set t left join {schema}.dim_tcg_series s using (series_key)
        where set_code in ('swsh35', 'lc', 'sv35', 'swsh4')""")
    }
    assert rows == {
        "swsh35": ("swsh3.5", "swsh35", "both", "swsh"),  # decimal point vs none
        "lc": ("lc", "base6", "both", "lc"),  # irregular id, seed tcg_set_aliases
        "sv35": ("sv03.5", None, "tcgdex_only", "sv"),  # zero padding removed (pokemontcg: sv3pt5)
        "swsh4": ("swsh4", "swsh4", "both", "swsh"),
    }


# --- Pokémon ----------------------------------------------------------------------------------------


def test_pokemon_dimension(warehouse):
    rows = warehouse.query("""
        select pokemon_key, pokemon_id, national_dex_id, pokemon_name, is_default_form, types_label,
               primary_type, secondary_type, base_experience, generation_key
        from {schema}.dim_pokemon order by pokemon_id""")
    assert rows == [
        # pokeapi/pokemon_detail__1.json (2026 capture, the latest of three): species 1, grass+poison
        (md5_key(1), 1, 1, "Bulbasaur", True, "Grass/Poison", "Grass", "Poison", 64, md5_key(1)),
        # pokeapi/pokemon_detail__4.json: clefable-mega, species /pokemon-species/36/, base_experience null
        (
            md5_key(10278),
            10278,
            36,
            "Clefable Mega",
            False,
            "Fairy/Flying",
            "Fairy",
            "Flying",
            None,
            md5_key(1),
        ),
    ]
    generations = warehouse.query(
        "select generation_id, generation_name, main_region, species_count "
        "from {schema}.dim_pokemon_generation order by 1"
    )
    # pokeapi/generation_detail__1.json (151 species), generation_detail__2.json (120 species)
    assert generations == [(1, "Generation I", "kanto", 151), (9, "Generation IX", "paldea", 120)]


def test_first_mart_answers_per_generation(warehouse):
    # Generation I has priced cards: det1-1 Bulbasaur (tcgplayer holofoil 2021/03/12 in cards__1.json)
    rows = warehouse.query("""
        select market, price_variant, cards_priced from {schema}.mart_tcg_price_trend_by_generation
        where generation_name = 'Generation I' and price_date = date '2021-03-12'""")
    assert ("tcgplayer", "holofoil", 1) in rows
