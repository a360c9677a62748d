"""Child process: the transform cost. Loads N synthetic RAWG games (the replay server's generator,
one version each) plus the recorded payloads of every other staging table into raw.* of a
dedicated database, then times with dbt (gmp_dev.run_dbt):

1. a full `dbt build` of the games gold layer (`--select +path:models/marts/games`: stg_rawg__games,
   fact_games, every bridge and dim, their seeds and tests) into a fresh target schema;
   (after a previous daily run that changed another `--changed-fraction` of the games);
2. new versions of `--changed-fraction` of the games (changed content, a later _ingested_at) appended
   to raw.rawg__games, as an ingestion run would;
3. the same `dbt build` again: incremental models merge only what was ingested since their watermark.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import time

from bench.common import ROOT, emit, ensure_database

SELECT = "+path:models/marts/games"
INGESTED_AT = "2026-02-01T06:00:00+00:00"
PREVIOUS_AT = "2026-02-01T18:00:00+00:00"
CHANGED_AT = "2026-02-02T06:00:00+00:00"


def load_raw(pg_url: str, games: int) -> None:
    import psycopg2

    sys.path.insert(0, str(ROOT))
    from game_market_pipeline.ingest.hashing import canonical_json
    from game_market_pipeline.transform.sources import source_tables
    from gmp_dev.replay.synthetic import SyntheticGames
    from tests.dbt.raw_fixture import load_day_one

    conn = psycopg2.connect(pg_url)
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS raw CASCADE")
    conn.commit()
    load_day_one(conn, [t for _, _, t in source_tables()])
    generator = SyntheticGames(games)
    chunk = 10_000
    with conn.cursor() as cur:
        for start in range(0, games, chunk):
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            for game in generator.iter_games(start, min(games, start + chunk)):
                payload = canonical_json(game)
                writer.writerow(
                    [
                        game["id"],
                        hashlib.sha256(payload.encode()).hexdigest(),
                        payload,
                        INGESTED_AT,
                        "bench-transform",
                        "s3://bench/bronze/part.parquet",
                    ]
                )
            out.seek(0)
            cur.copy_expert(
                'COPY raw."rawg__games" (_record_key, _content_hash, payload, _ingested_at, _run_id, '
                "_source_uri) FROM STDIN WITH (FORMAT csv)",
                out,
                size=1 << 20,
            )
        # The index the ingestion creates (staging.ensure_staging_table): watermark reads use it.
        cur.execute(
            'CREATE INDEX IF NOT EXISTS "rawg__games_ingested_at" ON raw."rawg__games" (_ingested_at)'
        )
        cur.execute('ANALYZE raw."rawg__games"')
    conn.commit()
    conn.close()


def reuse_raw(pg_url: str, games: int) -> bool:
    """True when raw.rawg__games already holds this size's bulk load (an earlier repetition of the
    same invocation): the versions that repetition appended are deleted and the table vacuumed, so
    every repetition starts from the same raw state without paying the bulk load again."""
    import psycopg2

    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('raw.rawg__games') IS NOT NULL")
        if not cur.fetchone()[0]:
            conn.close()
            return False
        cur.execute("SELECT count(*) FROM raw.\"rawg__games\" WHERE _run_id = 'bench-transform'")
        if cur.fetchone()[0] != games:
            conn.close()
            return False
        cur.execute("DELETE FROM raw.\"rawg__games\" WHERE _run_id <> 'bench-transform'")
        cur.execute('VACUUM ANALYZE raw."rawg__games"')
    conn.close()
    return True


def change_games(pg_url: str, fraction: float, at: str = "", offset: int = 0) -> int:
    """New versions of every 1/fraction-th synthetic game (from `offset`): changed rating and
    `updated`, ingested at `at` (later than everything before)."""
    import psycopg2

    step = max(1, round(1 / fraction))
    conn = psycopg2.connect(pg_url)
    with conn, conn.cursor() as cur:
        cur.execute(
            f"""
            INSERT INTO raw."rawg__games" (_record_key, _content_hash, payload, _ingested_at, _run_id, _source_uri)
            SELECT _record_key, encode(sha256(convert_to(p::text, 'UTF8')), 'hex'), p, %s, 'bench-change',
                   's3://bench/bronze/part-changed.parquet'
            FROM (SELECT _record_key,
                         payload || jsonb_build_object('rating', round((coalesce((payload->>'rating')::numeric, 0)
                                    + 0.1) %% 5, 2), 'updated', '2026-02-02T05:00:00') AS p
                  FROM raw."rawg__games"
                  WHERE _run_id = 'bench-transform' AND (_record_key::bigint %% {step}) = {offset % step}) AS changed
            ON CONFLICT (_record_key, _content_hash) DO NOTHING""",
            (at or CHANGED_AT,),
        )
        changed = cur.rowcount
    conn.close()
    return changed


def dbt_build(pg_url: str, schema: str) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "gmp_dev.run_dbt",
            "--pg-url",
            pg_url,
            "--schema",
            schema,
            "build",
            "--select",
            SELECT,
            "--indirect-selection",
            "cautious",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(
            f"dbt build failed ({proc.returncode}):\n{proc.stdout[-5000:]}\n{proc.stderr[-2000:]}"
        )
    return seconds, proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--pg-url", required=True, help="any database of the server (a dedicated one is made)"
    )
    parser.add_argument("--database", default="gmp_bench_dbt")
    parser.add_argument("--schema", default="bench_gold")
    parser.add_argument("--games", type=int, required=True)
    parser.add_argument("--changed-fraction", type=float, default=0.01)
    parser.add_argument(
        "--reuse-raw",
        action="store_true",
        help="keep an earlier repetition's bulk load of the same size (its changes are undone)",
    )
    args = parser.parse_args(argv)
    import psycopg2

    pg_url = ensure_database(args.pg_url, args.database)
    started = time.perf_counter()
    reused = args.reuse_raw and reuse_raw(pg_url, args.games)
    if not reused:
        load_raw(pg_url, args.games)
    load_seconds = time.perf_counter() - started
    conn = psycopg2.connect(pg_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE')
    conn.close()
    # Steady state of a daily pipeline: yesterday's run changed 1 % too (other games), so the last
    # instant before today is a daily run, not the bulk load. The models' `>=` watermark re-reads
    # the rows of that last instant (macros/incremental.sql), so today reads ~2 % of the games.
    change_games(pg_url, args.changed_fraction, PREVIOUS_AT, offset=50)
    full_seconds, full_log = dbt_build(pg_url, args.schema)
    changed = change_games(pg_url, args.changed_fraction, CHANGED_AT)
    incremental_seconds, inc_log = dbt_build(pg_url, args.schema)
    models = sum(1 for line in full_log.splitlines() if " OK created " in line or "OK created" in line)
    conn = psycopg2.connect(pg_url)
    with conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{args.schema}".fact_games')
        facts = cur.fetchone()[0]
        cur.execute(
            f'SELECT count(*) FROM "{args.schema}".fact_games WHERE _ingested_at >= %s', (CHANGED_AT,)
        )
        updated = cur.fetchone()[0]
    conn.close()
    emit(
        {
            "games": args.games,
            "load_raw_seconds": load_seconds,
            "raw_reused": reused,
            "full_seconds": full_seconds,
            "incremental_seconds": incremental_seconds,
            "changed": changed,
            "models": models,
            "fact_games_rows": facts,
            "fact_games_updated": updated,
            "full_tail": full_log.strip().splitlines()[-1:],
            "incremental_tail": inc_log.strip().splitlines()[-1:],
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
