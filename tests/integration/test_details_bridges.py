"""After the details fill (list walk -> game details -> staging, over the replay server, moto S3 and
Postgres) and a dbt run, every game in fact_games has exactly the developer and publisher bridge rows
its detail payload names — the issue's "bridges hold a row for (nearly) every game", end to end."""

from __future__ import annotations

import psycopg2
import pytest

from tests.dbt.dbt_cli import run_dbt
from tests.integration.conftest import DAY

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCHEMA = "wh_details"


def credits_in_details(cur, plural: str) -> set[tuple[int, int]]:
    """(game id, company id) of every company the latest detail of each game names."""
    cur.execute(f"""
        WITH latest AS (
            SELECT DISTINCT ON (_record_key) payload FROM raw.rawg__game_details
            ORDER BY _record_key, _ingested_at DESC
        )
        SELECT (payload ->> 'id')::bigint, (member ->> 'id')::bigint
        FROM latest, jsonb_array_elements(coalesce(payload -> '{plural}', '[]'::jsonb)) AS member""")
    return set(cur.fetchall())


def test_every_game_has_the_developer_and_publisher_rows_its_detail_names(harness, tmp_path):
    games = harness.endpoint("rawg", "games")
    details = harness.endpoint("rawg", "game_details")
    details = details.model_copy(
        update={"details_of": details.details_of.model_copy(update={"max_calls_per_run": 10_000})}
    )
    harness.run(games, DAY, "run-1")
    _, loaded = harness.run(details, DAY, "run-1")
    assert loaded.status == "loaded"
    run_dbt(
        ["run", "--select", "+fact_games", "+bridge_game_developer", "+bridge_game_publisher"],
        pg_url=harness.pg_url,
        schema=SCHEMA,
        work_dir=tmp_path,
    )
    with psycopg2.connect(harness.pg_url) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT game_id FROM {SCHEMA}.fact_games")
        fact_games = {game_id for (game_id,) in cur.fetchall()}
        listed = {g["id"] for g in harness.replay.app.corpus.rawg.games}
        assert fact_games == listed
        for member, plural in (("developer", "developers"), ("publisher", "publishers")):
            expected = credits_in_details(cur, plural)
            cur.execute(f"SELECT game_id, {member}_id FROM {SCHEMA}.bridge_game_{member}")
            bridged = set(cur.fetchall())
            assert bridged == expected, (member, len(bridged), len(expected))
            with_credits = {game for game, _ in expected}
            # The replay server details every listed game; (nearly) all of them name their companies.
            assert with_credits <= fact_games and len(with_credits) >= 0.9 * len(fact_games), (
                member,
                len(with_credits),
                len(fact_games),
            )
            print(
                f"bridge_game_{member}: {len(bridged)} rows, {len(with_credits)} of {len(fact_games)} games"
            )
