"""Raw staging tables loaded from the recorded API payloads, exactly per the staging contract.

Until the real ingestion writes `raw.<source>__<endpoint>`, the dbt tests load the recorded
payloads themselves: one row per API record, `_record_key` = the record's primary key as text,
`_content_hash` = sha256 of its canonical JSON, `payload` = the record as the API sent it,
`_ingested_at` increasing with the order the captures are listed below (so a game captured in
several files has several versions, and the last file's version is the latest).

Files come from the replay server's recordings (dev/gmp_dev/replay/recordings/)
when present, else from the shared samples (../shared/api_samples).

Two kinds of records here were NOT captured from an API, and are marked as such:
- CONSTRUCTED TCGdex card details with a `pricing` block, in the shape SOURCES.md ("Pricing")
  documents: no recorded payload carries one (the only real one could not be attributed).
- RAWG /games/{id} DETAILS loaded as newer versions of games: real payloads, but the ingestion
  stores /games list items, which have no developers/publishers. They exercise the
  game<->developer/publisher bridges.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECORDINGS_DIR = PROJECT_ROOT / "dev" / "gmp_dev" / "replay" / "recordings"
SHARED_SAMPLES_DIR = PROJECT_ROOT.parent / "shared" / "api_samples"
RAW_SCHEMA = "raw"
BASE_INGESTED_AT = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)

CONTRACT_DDL = """
CREATE TABLE IF NOT EXISTS {schema}."{table}" (
  _record_key   text        NOT NULL,
  _content_hash text        NOT NULL,
  payload       jsonb       NOT NULL,
  _ingested_at  timestamptz NOT NULL,
  _run_id       text        NOT NULL,
  _source_uri   text        NOT NULL,
  UNIQUE (_record_key, _content_hash)
)
"""


def canonical_json(record: Any) -> str:
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(record: Any) -> str:
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def sample_path(api: str, name: str) -> Path:
    for folder in (RECORDINGS_DIR, SHARED_SAMPLES_DIR):
        path = folder / api / name
        if path.exists():
            return path
    raise FileNotFoundError(f"{api}/{name} in neither {RECORDINGS_DIR} nor {SHARED_SAMPLES_DIR}")


def read_sample(api: str, name: str) -> Any:
    return json.loads(sample_path(api, name).read_text(encoding="utf-8"))


def records_of(document: Any) -> list[dict[str, Any]]:
    """The records of a captured response: RAWG/PokeAPI `results`, pokemontcg `data`, bare arrays, or one detail."""
    if isinstance(document, list):
        return document
    for envelope in ("results", "data"):
        if isinstance(document, dict) and envelope in document:
            inner = document[envelope]
            return inner if isinstance(inner, list) else [inner]
    return [document]


# ------------------------------------------------------------------------------------------------
# Constructed TCGdex card details with pricing (shape: SOURCES.md "Pricing"). CONSTRUCTED, not recorded.


def constructed_charizard(day: int = 0) -> dict[str, Any]:
    """CONSTRUCTED: TCGdex detail of swsh4-25 (the card pokemontcg.io documents) with both price providers."""
    updated = f"2026-01-{5 + day:02d}T01:00:00.000Z"
    bump = round(0.5 * day, 2)
    return {
        "category": "Pokemon",
        "id": "swsh4-25",
        "illustrator": "Ryuta Fuse",
        "image": "https://assets.tcgdex.net/en/swsh/swsh4/25",
        "localId": "25",
        "name": "Charizard",
        "rarity": "Rare",
        "set": {
            "cardCount": {"official": 185, "total": 203},
            "id": "swsh4",
            "logo": "https://assets.tcgdex.net/en/swsh/swsh4/logo",
            "name": "Vivid Voltage",
            "symbol": "https://assets.tcgdex.net/univ/swsh/swsh4/symbol",
        },
        "variants": {"firstEdition": False, "holo": False, "normal": True, "reverse": True, "wPromo": False},
        "dexId": [6],
        "hp": 170,
        "types": ["Fire"],
        "evolveFrom": "Charmeleon",
        "stage": "Stage2",
        "retreat": 3,
        "regulationMark": "D",
        "legal": {"standard": False, "expanded": True},
        "pricing": {
            "cardmarket": {
                "updated": updated,
                "unit": "EUR",
                "idProduct": 530941,
                "avg": 9.5 + bump,
                "low": 8.0 + bump,
                "trend": 10.25 + bump,
                "avg1": 9.9 + bump,
                "avg7": 9.4 + bump,
                "avg30": 11.0 + bump,
                "avg-holo": 14.0 + bump,
                "low-holo": 12.5 + bump,
                "trend-holo": 15.5 + bump,
                "avg1-holo": None,
                "avg7-holo": 14.2 + bump,
                "avg30-holo": 14.9 + bump,
            },
            "tcgplayer": {
                "updated": updated,
                "unit": "USD",
                "normal": {
                    "productId": 224001,
                    "lowPrice": 1.75 + bump,
                    "midPrice": 3.5 + bump,
                    "highPrice": 12.99 + bump,
                    "marketPrice": 2.8 + bump,
                    "directLowPrice": None,
                },
                "reverse": {
                    "productId": 224001,
                    "lowPrice": 3.0 + bump,
                    "midPrice": 9.0 + bump,
                    "highPrice": 100.0,
                    "marketPrice": 3.9 + bump,
                    "directLowPrice": 4.5 + bump,
                },
            },
        },
        "updated": updated,
    }


def constructed_cufant_priced() -> dict[str, Any]:
    """CONSTRUCTED: a newer version of the recorded swsh1-136 with a Cardmarket-only pricing block
    (`tcgplayer: null`, as the one real priced card had)."""
    card = read_sample("tcgdex", "cards_detail__2.json")
    card = dict(card)
    card["pricing"] = {
        "cardmarket": {
            "updated": "2026-01-05T00:00:00.000Z",
            "unit": "EUR",
            "idProduct": 476391,
            "avg": 0.08,
            "low": 0.02,
            "trend": 0.09,
            "avg1": 0.1,
            "avg7": 0.07,
            "avg30": 0.08,
            "avg-holo": None,
            "low-holo": None,
            "trend-holo": None,
            "avg1-holo": None,
            "avg7-holo": None,
            "avg30-holo": None,
        },
        "tcgplayer": None,
    }
    card["updated"] = "2026-01-05T00:00:00+01:00"
    return card


# ------------------------------------------------------------------------------------------------
# What each staging table gets, in ingestion order: (label, records).


@dataclass(frozen=True)
class Capture:
    label: str
    records: list[dict[str, Any]]


def _files(api: str, names: Iterable[str]) -> list[Capture]:
    return [Capture(f"{api}/{name}", records_of(read_sample(api, name))) for name in names]


def day_one_captures() -> dict[str, list[Capture]]:
    """Table name -> captures, in the order they are ingested (later = newer version)."""
    games = _files(
        "rawg",
        [f"games__{i}.json" for i in range(1, 10)]
        + ["games_result_item__1.json", "games_results_array__1.json"],
    )
    games += [
        Capture(f"rawg/{name} (detail as a newer version)", records_of(read_sample("rawg", name)))
        for name in ("game_detail__1.json", "game_detail__2.json", "game_detail__3.json")
    ]
    tcgdex_cards = _files(
        "tcgdex",
        [
            "cards_detail_DOCEXAMPLE__1.json",
            "cards_detail__1.json",
            "cards_detail__2.json",
            "cards_detail__3.json",
        ],
    )
    tcgdex_cards += [
        Capture("CONSTRUCTED tcgdex card with pricing (swsh4-25)", [constructed_charizard(0)]),
        Capture("CONSTRUCTED tcgdex card with pricing (swsh1-136)", [constructed_cufant_priced()]),
    ]
    return {
        "rawg__games": games,
        "rawg__genres": _files("rawg", ["genres__1.json", "genres__2.json", "genres__3.json"]),
        "rawg__platforms": _files("rawg", ["platforms__1.json"]),
        "rawg__stores": _files("rawg", ["stores__1.json"]),
        "rawg__tags": _files("rawg", ["tags__1.json"]),
        "rawg__developers": _files("rawg", ["developers__1.json"]),
        "rawg__publishers": _files("rawg", ["publishers__1.json"]),
        "tcgdex__series": _files("tcgdex", ["series__1.json", "series__2.json"]),
        "tcgdex__sets": _files("tcgdex", ["sets__1.json"]),
        "tcgdex__cards": tcgdex_cards,
        "pokemontcg__cards": _files(
            "pokemontcg",
            [
                "cards__1.json",
                "cards__2.json",
                "cards__3.json",
                "cards_detail__1.json",
                "cards_detail__2.json",
                "cards_detail_DOCEXAMPLE__1.json",
                "card_object_DOCEXAMPLE__1.json",
                "cards__4.json",
                "cards_MERGED__1.json",
                "cards_detail_MERGED__1.json",
            ],
        ),
        "pokemontcg__sets": _files(
            "pokemontcg",
            ["sets__1.json", "sets__2.json", "sets__3.json", "sets_detail__1.json", "sets_detail__2.json"],
        ),
        # The 2018, 2021 and 2026 captures of bulbasaur: three versions, 2026 the latest.
        "pokeapi__pokemon": _files(
            "pokeapi",
            [
                "pokemon_detail__2.json",
                "pokemon_detail__3.json",
                "pokemon_detail__1.json",
                "pokemon_detail__4.json",
            ],
        ),
        "pokeapi__generation": _files("pokeapi", ["generation_detail__1.json", "generation_detail__2.json"]),
    }


@dataclass(frozen=True)
class RawRow:
    table: str
    record_key: str
    content_hash: str
    payload: dict[str, Any]
    ingested_at: datetime
    run_id: str
    source_uri: str


def rows_for(
    table: str, captures: list[Capture], start: datetime, primary_key: str = "id"
) -> Iterator[RawRow]:
    for position, capture in enumerate(captures):
        ingested_at = start + timedelta(minutes=10 * position)
        run_id = f"fixture__{table}__{position:02d}"
        for record in capture.records:
            yield RawRow(
                table,
                str(record[primary_key]),
                content_hash(record),
                record,
                ingested_at,
                run_id,
                f"s3://game-market-lake/bronze/{table.replace('__', '/')}/{run_id}.parquet",
            )


def create_raw_tables(conn: Any, tables: Iterable[str]) -> None:
    with conn.cursor() as cur:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
        for table in tables:
            cur.execute(CONTRACT_DDL.format(schema=RAW_SCHEMA, table=table))
    conn.commit()


def insert_rows(conn: Any, rows: Iterable[RawRow]) -> int:
    """Append rows the way the ingestion does: a (key, hash) already present is not loaded again."""
    from psycopg2.extras import Json, execute_values

    by_table: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_table.setdefault(row.table, []).append(
            (row.record_key, row.content_hash, Json(row.payload), row.ingested_at, row.run_id, row.source_uri)
        )
    inserted = 0
    with conn.cursor() as cur:
        for table, values in by_table.items():
            result = execute_values(
                cur,
                f'INSERT INTO {RAW_SCHEMA}."{table}" '
                "(_record_key, _content_hash, payload, _ingested_at, _run_id, _source_uri) VALUES %s "
                "ON CONFLICT (_record_key, _content_hash) DO NOTHING RETURNING 1",
                values,
                page_size=500,
                fetch=True,
            )
            inserted += len(result)
    conn.commit()
    return inserted


def load_day_one(conn: Any, table_names: Iterable[str]) -> int:
    """Create every staging table of the config and load the recorded captures (day one)."""
    table_names = list(table_names)
    create_raw_tables(conn, table_names)
    captures = day_one_captures()
    missing = sorted(set(captures) - set(table_names))
    assert not missing, f"fixture tables not in the config: {missing}"
    rows: list[RawRow] = []
    for table, table_captures in captures.items():
        rows += rows_for(table, table_captures, BASE_INGESTED_AT)
    return insert_rows(conn, rows)


def main() -> int:  # pragma: no cover - a developer convenience: load a local database by hand
    import argparse

    import psycopg2

    from game_market_pipeline.transform.sources import source_tables

    parser = argparse.ArgumentParser(description="Load the recorded payloads into raw.* of a database")
    parser.add_argument("url")
    args = parser.parse_args()
    with psycopg2.connect(args.url) as conn:
        print(load_day_one(conn, [t for _, _, t in source_tables()]), "rows loaded")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
