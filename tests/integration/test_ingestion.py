"""Ingestion end to end over real HTTP, a real S3 endpoint and a real Postgres."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pyarrow.parquet as pq
import pytest

from game_market_pipeline.exceptions import ApiAuthError, QuarantineThresholdExceeded
from game_market_pipeline.ingest.connections import ApiSettings
from tests.conftest import FAKE_RAWG_KEY
from tests.integration.conftest import DAY

pytestmark = pytest.mark.integration

# (source, endpoint, replay corpus key): what the replay server serves in full for each endpoint.
ENDPOINTS = [
    ("rawg", "games", "rawg/games"),
    ("rawg", "genres", "rawg/genres"),
    ("rawg", "platforms", "rawg/platforms"),
    ("rawg", "stores", "rawg/stores"),
    ("rawg", "tags", "rawg/tags"),
    ("rawg", "developers", "rawg/developers"),
    ("rawg", "publishers", "rawg/publishers"),
    ("tcgdex", "series", "tcgdex/series"),
    ("tcgdex", "sets", "tcgdex/sets"),
    ("tcgdex", "cards", "tcgdex/cards"),
    ("pokemontcg", "cards", "pokemontcg/cards"),
    ("pokemontcg", "sets", "pokemontcg/sets"),
    ("pokeapi", "pokemon", "pokeapi/pokemon"),
    ("pokeapi", "generation", "pokeapi/generation"),
]


def test_every_configured_endpoint_is_covered(harness):
    # Endpoints of details (details_of) read their work list from staging: tests/integration/test_details.py.
    listed = {(e.source, e.name) for e in harness.config.endpoints if e.details_of is None}
    assert {(s, e) for s, e, _ in ENDPOINTS} == listed


@pytest.mark.parametrize(
    ("source", "name", "corpus_key"), ENDPOINTS, ids=[f"{s}.{e}" for s, e, _ in ENDPOINTS]
)
def test_replay_to_s3_to_staging_counts_match(harness, source, name, corpus_key):
    endpoint = harness.endpoint(source, name)
    expected = harness.replay.app.corpus.counts()[corpus_key]
    result, loaded = harness.run(endpoint)
    assert result.records == expected and result.invalid == 0
    # Every API but TCGdex says how many records a walk has, and every walk here lands them all.
    assert result.count_check == (None if source == "tcgdex" else "ok")
    assert loaded.status == "loaded" and loaded.copied == expected
    rows = harness.query(f'SELECT count(*), count(DISTINCT _record_key) FROM raw."{endpoint.table_name}"')
    assert rows == [(expected, expected)]
    # Bronze: Hive-style keys, Parquet parts whose rows add up, manifest last and complete.
    manifest = harness.manifest(result)
    assert manifest["complete"] and manifest["records"] == expected and manifest["schema_version"] == 1
    prefix = f"bronze/source={source}/endpoint={name}/ingest_date={DAY.isoformat()}/"
    assert result.manifest_uri == f"s3://{harness.bucket}/{prefix}_manifest.json"
    parts = [
        (k, body) for k, body, _ in harness.s3_objects() if k.startswith(prefix) and k.endswith(".parquet")
    ]
    assert sum(pq.read_table(io.BytesIO(body)).num_rows for _, body in parts) == expected
    run = harness.query(
        "SELECT status, records, loaded, api_calls FROM ops.ingest_runs WHERE endpoint = %s AND source = %s",
        (name, source),
    )
    assert run == [("loaded", expected, expected, result.api_calls)]
    if endpoint.fan_out:
        assert result.api_calls > expected  # one detail call per listed record, plus the list pages


def test_second_run_of_a_date_makes_no_api_call_and_adds_no_row(harness):
    endpoint = harness.endpoint("rawg", "games")
    first, _ = harness.run(endpoint)
    calls_before = harness.replay.stats()["requests"]
    objects_before = len(harness.s3_objects())
    second, loaded = harness.run(endpoint, run_id="run-2")
    assert second.already_complete and second.api_calls == 0
    assert harness.replay.stats()["requests"] == calls_before
    assert len(harness.s3_objects()) == objects_before
    assert loaded.status == "skipped_already_loaded" and loaded.inserted == 0
    assert harness.query('SELECT count(*) FROM raw."rawg__games"') == [(first.records,)]


def test_next_day_with_unchanged_data_costs_no_rows(harness):
    endpoint = harness.endpoint("pokemontcg", "sets")
    first, _ = harness.run(endpoint)
    second, loaded = harness.run(endpoint, day=DAY + timedelta(days=1), run_id="run-2")
    assert second.api_calls > 0 and loaded.copied == first.records and loaded.inserted == 0
    assert harness.query('SELECT count(*) FROM raw."pokemontcg__sets"') == [(first.records,)]


def test_incremental_endpoint_filters_since_the_last_complete_date(harness):
    endpoint = harness.endpoint("rawg", "games")
    harness.run(endpoint)
    second = harness.extract(endpoint, day=DAY + timedelta(days=3), run_id="run-2")
    manifest = harness.manifest(second)
    assert manifest["filters"] == {"updated": f"{DAY.isoformat()},{(DAY + timedelta(days=3)).isoformat()}"}
    assert second.api_calls >= 1 and not second.already_complete


def test_429_storm_with_retry_after_then_success(harness):
    endpoint = harness.endpoint("rawg", "genres")
    harness.replay.add_fault(path="/rawg/api/genres", kind="429", times=3, retry_after=1)
    import time

    started = time.monotonic()
    result, loaded = harness.run(endpoint)
    assert time.monotonic() - started >= 3.0  # Retry-After honoured each time
    assert result.api_calls == 4 and loaded.copied == 19


def test_500_then_success_and_timeout_then_success(harness):
    endpoint = harness.endpoint("tcgdex", "series")
    harness.replay.add_fault(path="/tcgdex/v2/en/series", kind="500", times=2)
    result, _ = harness.run(endpoint)
    assert result.api_calls == 3 and result.records == 20
    endpoint = harness.endpoint("pokemontcg", "sets")
    harness.replay.add_fault(path="/pokemontcg/v2/sets", kind="timeout", times=1, delay=2.0)
    result, loaded = harness.run(endpoint, settings=harness.settings(endpoint, timeout=0.5))
    assert result.api_calls == 2 and loaded.copied == 122


def test_malformed_json_page_is_retried(harness):
    endpoint = harness.endpoint("rawg", "platforms")
    harness.replay.add_fault(path="/rawg/api/platforms", kind="malformed", times=1)
    result, loaded = harness.run(endpoint)
    assert result.api_calls == 3 and loaded.copied == 50


def test_record_with_wrong_type_is_quarantined_and_the_run_goes_on(harness):
    endpoint = harness.endpoint("pokemontcg", "cards")
    harness.replay.add_fault(path="/pokemontcg/v2/cards", kind="wrong_type", times=1)
    result, loaded = harness.run(endpoint)
    assert result.invalid == 1 and loaded.copied == result.records - 1 == 257
    rows = harness.query(
        "SELECT source, endpoint, run_id, length(content_hash), errors::text, raw_record IS NOT NULL "
        "FROM raw.quarantine"
    )
    assert len(rows) == 1
    source, name, run_id, hash_len, errors, has_raw = rows[0]
    assert (source, name, run_id, hash_len, has_raw) == ("pokemontcg", "cards", "run-1", 64, True)
    assert "id" in errors
    quarantine_objects = [
        k for k, _, _ in harness.s3_objects() if k.startswith("quarantine/source=pokemontcg/")
    ]
    assert len(quarantine_objects) == 1


def test_too_many_invalid_records_fail_with_count_share_and_top_error(harness):
    endpoint = harness.endpoint("rawg", "genres", quarantine_threshold=0.0)
    harness.replay.add_fault(path="/rawg/api/genres", kind="wrong_type", times=1)
    result = harness.extract(endpoint)
    with pytest.raises(QuarantineThresholdExceeded) as err:
        harness.load(endpoint, result)
    message = str(err.value)
    assert "1 of 19 records (5.3%)" in message and "above the threshold of 0.0%" in message
    assert "most common error: id" in message
    assert harness.query("SELECT count(*) FROM raw.quarantine") == [(1,)]
    assert harness.query("SELECT status FROM ops.ingest_runs") == [("failed_quarantine_threshold",)]
    assert harness.query('SELECT count(*) FROM raw."rawg__genres"') == [(0,)]


def test_unknown_field_is_kept_and_reported_as_drift(harness, caplog):
    endpoint = harness.endpoint("tcgdex", "sets")
    harness.replay.add_fault(path="/tcgdex/v2/en/sets", kind="unknown_field", times=1)
    with caplog.at_level(logging.WARNING):
        result, loaded = harness.run(endpoint)
    assert loaded.copied == result.records and result.invalid == 0
    drift = harness.query("SELECT drift_fields FROM ops.ingest_runs")[0][0]
    assert len(drift) == 1
    field = next(iter(drift))
    assert drift[field] == result.records
    assert "schema drift" in caplog.text and field in caplog.text
    kept = harness.query('SELECT count(*) FROM raw."tcgdex__sets" WHERE payload ? %s', (field,))
    assert kept == [(result.records,)]


def test_401_says_the_key_is_wrong_without_showing_it(harness):
    endpoint = harness.endpoint("rawg", "genres")
    wrong = "wrong-key-9876543210"
    with pytest.raises(ApiAuthError) as err:
        harness.extract(endpoint, settings=ApiSettings(harness.replay.base_url("rawg"), wrong, 1000, 1000, 5))
    assert "key is missing or wrong" in str(err.value) and "connection" in str(err.value)
    assert wrong not in str(err.value)
    assert harness.replay.stats()["requests"] == 1  # no retry on 401


def test_rawg_key_appears_nowhere_after_a_run(harness, caplog):
    with caplog.at_level(logging.DEBUG):
        for name in ("games", "genres"):
            endpoint = harness.endpoint("rawg", name)
            harness.replay.add_fault(path=f"/rawg/api/{name}", kind="500", times=1)  # errors get logged too
            harness.run(endpoint)
    assert FAKE_RAWG_KEY not in caplog.text
    for key, body, metadata in harness.s3_objects():
        assert FAKE_RAWG_KEY.encode() not in body, key
        assert FAKE_RAWG_KEY not in json.dumps(metadata), key
        if key.endswith(".parquet"):  # compressed: look inside the decoded rows too
            assert FAKE_RAWG_KEY not in json.dumps(pq.read_table(io.BytesIO(body)).to_pylist()), key
    dump = harness.query("""
        SELECT string_agg(t::text, '') FROM (
            SELECT row_to_json(g)::text AS t FROM raw."rawg__games" g
            UNION ALL SELECT row_to_json(r)::text FROM ops.ingest_runs r
            UNION ALL SELECT row_to_json(q)::text FROM raw.quarantine q) x""")[0][0]
    assert dump and FAKE_RAWG_KEY not in dump
    # The key did travel: the replay server saw it on every RAWG request (so the check above means something).
    assert harness.replay.stats()["requests"] > 0


def test_resume_point_never_stores_the_key(harness):
    endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
    harness.extract(endpoint, part_records=40)
    checkpoints = [
        json.loads(body) for key, body, _ in harness.s3_objects() if key.endswith(".checkpoint.json")
    ]
    assert len(checkpoints) >= 2
    nexts = [c["next_request"]["url"] for c in checkpoints if c["next_request"]]
    assert nexts and all("key=" not in url and "page=" in url for url in nexts)
