"""Incremental correctness against a full rebuild, and a price history that grows.

A scratch database gets the recorded payloads (day 1), then two days of CONSTRUCTED new versions
(later `_ingested_at`, the way the ingestion appends changed records):
- day 2: GTA V re-rated, gone from Xbox 360 and without Rockstar North (a developer only it named:
  gone from dim_developer), a brand-new game with a full-width name and a tag no list holds, Action
  renamed with stray spaces, new TCGdex and pokemontcg.io prices for swsh4-25 (2026-01-06);
- day 3: God of War re-genred and without stores (an empty array), the new game's tag now in the
  /tags list (a listed row arriving after the game-only one), TCGdex prices for 2026-01-07.

Three builds of the same raw data:
- `inc_daily`: built after day 1, day 2 and day 3 (incremental each time; day 3 runs the tests too);
- `inc_behind`: built after day 1, then only after day 3 — two builds behind, like the blue/green
  target the write-audit-publish promotion reuses — it must catch up from the raw history;
- `inc_full`: one `--full-refresh` build after day 3.
Every silver and gold table of the incremental targets equals the full rebuild (EXCEPT both ways).
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import psycopg2
import pytest

from tests.dbt.conftest import staging_table_names
from tests.dbt.dbt_cli import run_dbt
from tests.dbt.keys import md5_key
from tests.dbt.raw_fixture import (
    Capture,
    constructed_charizard,
    insert_rows,
    load_day_one,
    read_sample,
    records_of,
    rows_for,
)

pytestmark = pytest.mark.integration

MODELS_ONLY = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
DAY_2 = datetime(2026, 1, 2, 6, 0, tzinfo=UTC)
DAY_3 = datetime(2026, 1, 3, 6, 0, tzinfo=UTC)
ROCKSTAR_NORTH = 3524  # named only by GTA V's detail (rawg/game_detail__1.json), not in /developers page 1
NEW_TAG = 990100  # CONSTRUCTED
GTA_ADDED_ON_DAY_3 = 21_000_123  # CONSTRUCTED
DETAIL_ONLY_FIELDS = {
    "developers",
    "publishers",
    "description",
    "description_raw",
    "name_original",
    "metacritic_platforms",
    "reactions",
    "alternative_names",
    "website",
}


def _game(name: str, game_id: int) -> dict:
    for file in ("game_detail__1.json", "games_results_array__1.json"):
        for record in records_of(read_sample("rawg", file)):
            if record["id"] == game_id:
                return copy.deepcopy(record)
    raise KeyError(game_id)


def day_two() -> dict[str, list[Capture]]:
    gta = _game("GTA V", 3498)
    gta.update(rating=4.48, ratings_count=6900, updated="2026-01-02T05:00:00")
    gta["platforms"] = [p for p in gta["platforms"] if p["platform"]["id"] != 14]
    gta["developers"] = [d for d in gta["developers"] if d["id"] != ROCKSTAR_NORTH]
    new_game = _game("God of War", 58175)
    new_game.update(
        id=990001,
        slug="brand-new-game",
        name="Ｂｒａｎｄ　Ｎｅｗ\u00a0 Game ",
        esrb_rating=None,
        metacritic=None,
        updated="2026-01-02T04:00:00",
    )
    new_game["tags"] = [
        *new_game["tags"],
        {
            "id": NEW_TAG,
            "name": " Constructed  Tag",
            "slug": "constructed-tag",
            "language": "eng",
            "games_count": 1,
        },
    ]
    action = next(g for g in records_of(read_sample("rawg", "genres__3.json")) if g["id"] == 4)
    action = {**action, "name": "\u00a0Action  ", "games_count": 180000}
    pokemontcg_charizard = copy.deepcopy(
        records_of(read_sample("pokemontcg", "card_object_DOCEXAMPLE__1.json"))[0]
    )
    pokemontcg_charizard["tcgplayer"]["updatedAt"] = "2026/01/06"
    pokemontcg_charizard["tcgplayer"]["prices"]["normal"]["market"] = 3.01
    pokemontcg_charizard["cardmarket"]["updatedAt"] = "2026/01/06"
    pokemontcg_charizard["cardmarket"]["prices"]["averageSellPrice"] = 9.77
    return {
        # GTA's detail arrives in the details table (rawg.game_details), the new game as a list item.
        "rawg__games": [Capture("CONSTRUCTED day 2 games", [new_game])],
        "rawg__game_details": [Capture("CONSTRUCTED day 2 game details", [gta])],
        "rawg__genres": [Capture("CONSTRUCTED day 2 genres", [action])],
        "tcgdex__cards": [Capture("CONSTRUCTED day 2 tcgdex prices", [constructed_charizard(1)])],
        "pokemontcg__cards": [Capture("CONSTRUCTED day 2 pokemontcg prices", [pokemontcg_charizard])],
    }


def day_three() -> dict[str, list[Capture]]:
    god_of_war = _game("God of War", 58175)
    god_of_war.update(
        updated="2026-01-03T04:00:00", stores=[], genres=[{"id": 3, "name": "Adventure", "slug": "adventure"}]
    )
    listed_tag = {
        "id": NEW_TAG,
        "name": "Constructed Tag",
        "slug": "constructed-tag",
        "language": "eng",
        "games_count": 5,
        "image_background": None,
    }
    # GTA's LIST item changes after its detail (more players added it): no new detail yet.
    gta_listed = {
        k: v for k, v in day_two()["rawg__game_details"][0].records[0].items() if k not in DETAIL_ONLY_FIELDS
    }
    gta_listed.update(added=GTA_ADDED_ON_DAY_3, updated="2026-01-03T05:00:00")
    return {
        "rawg__games": [Capture("CONSTRUCTED day 3 games", [god_of_war, gta_listed])],
        "rawg__tags": [Capture("CONSTRUCTED day 3 tags", [listed_tag])],
        "tcgdex__cards": [Capture("CONSTRUCTED day 3 tcgdex prices", [constructed_charizard(2)])],
    }


def load(pg_url: str, captures: dict[str, list[Capture]], at: datetime) -> int:
    rows = [row for table, table_captures in captures.items() for row in rows_for(table, table_captures, at)]
    with psycopg2.connect(pg_url) as conn:
        return insert_rows(conn, rows)


def compared_tables(pg_url: str, schema: str) -> list[str]:
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_name from information_schema.tables where table_schema = %s "
            "and table_type = 'BASE TABLE' order by 1",
            (schema,),
        )
        return [r[0] for r in cur.fetchall()]


def differences(pg_url: str, left: str, right: str, table: str) -> tuple[int, int]:
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        counts = []
        for a, b in ((left, right), (right, left)):
            cur.execute(
                f'select count(*) from (select * from "{a}"."{table}" except all '
                f'select * from "{b}"."{table}") as d'
            )
            counts.append(cur.fetchone()[0])
        return counts[0], counts[1]


def charizard_price_days(pg_url: str, schema: str) -> dict[str, int]:
    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(
            f"select price_date::text, count(*) from {schema}.fact_tcg_card_prices "
            f"where provider_card_id = 'swsh4-25' group by 1 order by 1"
        )
        return dict(cur.fetchall())


def run_together(*calls):
    """dbt invocations on different schemas at once (each is its own process): the CI box has 2 cores."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


@pytest.fixture(scope="module")
def incremental_builds(scratch_pg_url, dbt_work_dir):
    url = scratch_pg_url
    with psycopg2.connect(url) as conn:
        load_day_one(conn, staging_table_names())
    runs = {}
    run_together(
        *(
            partial(run_dbt, MODELS_ONLY, pg_url=url, schema=schema, work_dir=dbt_work_dir)
            for schema in ("inc_daily", "inc_behind")
        )
    )
    history = {"day1": charizard_price_days(url, "inc_daily")}
    assert load(url, day_two(), DAY_2) == 5
    runs["daily_day2"] = run_dbt(MODELS_ONLY, pg_url=url, schema="inc_daily", work_dir=dbt_work_dir)
    history["day2"] = charizard_price_days(url, "inc_daily")
    assert load(url, day_three(), DAY_3) == 4
    runs["daily_day3"], runs["behind"], runs["full"] = run_together(
        partial(run_dbt, ["build"], pg_url=url, schema="inc_daily", work_dir=dbt_work_dir),
        partial(run_dbt, MODELS_ONLY, pg_url=url, schema="inc_behind", work_dir=dbt_work_dir),
        partial(
            run_dbt, [*MODELS_ONLY, "--full-refresh"], pg_url=url, schema="inc_full", work_dir=dbt_work_dir
        ),
    )
    history["day3"] = charizard_price_days(url, "inc_daily")
    return url, runs, history


def test_incremental_runs_really_are_incremental(incremental_builds):
    _, runs, _ = incremental_builds
    target = runs["daily_day3"].target_path  # the last build of inc_daily (day 3), an incremental one
    relative = ("game_market", "models", "marts", "tcg", "fact_tcg_card_prices.sql")
    compiled = target.joinpath("compiled", *relative).read_text()
    executed = target.joinpath("run", *relative).read_text()
    # the watermark subquery reads the target table itself, and the rows are merged into it
    assert "select coalesce(max(_ingested_at), '-infinity'::timestamptz) from \"" in compiled
    assert '"inc_daily"."fact_tcg_card_prices"' in compiled
    assert "merge into" in executed.lower()


def test_daily_target_equals_a_full_rebuild(incremental_builds):
    url, _, _ = incremental_builds
    tables = compared_tables(url, "inc_full")
    assert len(tables) >= 35
    assert compared_tables(url, "inc_daily") == tables
    diffs = {t: differences(url, "inc_daily", "inc_full", t) for t in tables}
    assert {t: d for t, d in diffs.items() if d != (0, 0)} == {}


def test_target_two_builds_behind_catches_up(incremental_builds):
    url, _, _ = incremental_builds
    tables = compared_tables(url, "inc_full")
    diffs = {t: differences(url, "inc_behind", "inc_full", t) for t in tables}
    assert {t: d for t, d in diffs.items() if d != (0, 0)} == {}


def test_day_three_build_passes_its_tests(incremental_builds):
    _, runs, _ = incremental_builds
    statuses = runs["daily_day3"].statuses()
    assert statuses and set(statuses.values()) <= {"success", "pass"}


def test_price_history_grows_with_each_day(incremental_builds):
    _, _, history = incremental_builds
    assert history["day1"] == {"2021-08-04": 3, "2026-01-05": 4}
    # day 2: TCGdex 4 variant rows for 2026-01-06, pokemontcg.io 3 rows for 2026/01/06
    assert history["day2"] == {**history["day1"], "2026-01-06": 7}
    assert history["day3"] == {**history["day2"], "2026-01-07": 4}


def test_changed_records_replace_their_bridges(incremental_builds):
    url, _, _ = incremental_builds
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select platform_id from inc_daily.bridge_game_platform where game_id = 3498 order by 1")
        assert [r[0] for r in cur.fetchall()] == [1, 4, 16, 18, 186, 187]  # 14 (Xbox 360) dropped on day 2
        cur.execute("select count(*) from inc_daily.bridge_game_store where game_id = 58175")
        assert cur.fetchone()[0] == 0  # stores: [] on day 3
        cur.execute("select genre_id from inc_daily.bridge_game_genre where game_id = 58175")
        assert [r[0] for r in cur.fetchall()] == [3]
        cur.execute(
            "select game_name, rating, esrb_rating_key from inc_daily.fact_games "
            "where game_id in (3498, 990001) order by game_id"
        )
        assert [(r[0], float(r[1]), r[2]) for r in cur.fetchall()] == [
            ("Grand Theft Auto V", 4.48, md5_key(4)),
            ("Brand New Game", 4.55, None),  # NFKC + whitespace standardisation of the full-width name
        ]
        cur.execute("select genre_name, games_count from inc_daily.dim_genre where genre_id = 4")
        assert cur.fetchone() == ("Action", 180000)


def test_dims_follow_the_games_and_the_lists(incremental_builds):
    url, _, _ = incremental_builds
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        for schema in ("inc_daily", "inc_behind", "inc_full"):
            cur.execute(
                f"select count(*) from {schema}.dim_developer where developer_id = %s", (ROCKSTAR_NORTH,)
            )
            assert cur.fetchone()[0] == 0, schema  # no game names it any more, no list holds it
            cur.execute(
                f"select tag_name, games_count, is_listed from {schema}.dim_tag where tag_id = %s", (NEW_TAG,)
            )
            assert cur.fetchone() == ("Constructed Tag", 5, True), schema
        cur.execute("select count(*) from inc_daily.bridge_game_tag where tag_id = %s", (NEW_TAG,))
        assert cur.fetchone()[0] == 1


def test_game_tables_keep_their_watermark_on_the_table(incremental_builds):
    """Bridges and dims have no _ingested_at column: the watermark is recorded on the table itself."""
    url, runs, _ = incremental_builds
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "select c.relname, obj_description(c.oid, 'pg_class') from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'inc_daily' and c.relname ~ '^(bridge_game|dim_(tag|genre|platform|store|"
            "developer|publisher)$)'"
        )
        comments = dict(cur.fetchall())
    assert len(comments) == 12
    for table, comment in comments.items():
        # day 3's build: the watermark is day 3's load, and it changed what came after day 2's
        assert (
            comment == "gmp:watermark=2026-01-03T06:00:00.000000+00 gmp:since=2026-01-02T06:00:00.000000+00"
        ), table
    target = runs["daily_day3"].target_path
    compiled = target.joinpath(
        "compiled", "game_market", "models", "marts", "games", "bridge_game_tag.sql"
    ).read_text()
    # the recorded watermark, read when the model ran, is a literal the planner can estimate with
    assert "where _ingested_at >= '2026-01-02T06:00:00.000000+00'::timestamptz" in compiled
    tests = target.joinpath("run", "game_market", "models", "marts", "games", "_games__models.yml")
    unique = next(tests.glob("unique_bridge_game_tag_game_tag_key*.sql")).read_text()
    assert "where game_id = any(array(select game_id from" in unique  # day 3's tests: the changed games only


def test_a_list_change_after_the_detail_keeps_the_details_credits(incremental_builds):
    """Credits come from the game's latest version that has them (a detail): GTA's day-3 list item,
    newer than its day-2 detail, updates the fact but not the developers/publishers."""
    url, _, _ = incremental_builds
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        day_two_detail = day_two()["rawg__game_details"][0].records[0]
        expected = sorted(d["id"] for d in day_two_detail["developers"])
        for schema in ("inc_daily", "inc_behind", "inc_full"):
            cur.execute(f"select added_count from {schema}.fact_games where game_id = 3498")
            assert cur.fetchone()[0] == GTA_ADDED_ON_DAY_3, schema
            cur.execute(
                f"select developer_id from {schema}.bridge_game_developer where game_id = 3498 order by 1"
            )
            assert [r[0] for r in cur.fetchall()] == expected, schema
            cur.execute(f"select count(*) from {schema}.bridge_game_publisher where game_id = 3498")
            assert cur.fetchone()[0] == len(day_two_detail["publishers"]) > 0, schema
