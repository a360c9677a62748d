"""Issue 19's input failures, each over real HTTP (replay server faults), a real S3 endpoint (moto
server) and a real Postgres: pagination that loops or runs away, text the warehouse cannot store,
a short read, and a key echoed inside a record's data."""

from __future__ import annotations

import gc
import io
import json

import pyarrow.parquet as pq
import pytest

from game_market_pipeline.ingest.count_check import CountMismatchError
from game_market_pipeline.ingest.guards import WalkStopped
from tests.conftest import FAKE_RAWG_KEY

pytestmark = pytest.mark.integration

# Bounded, so today's code (no guard) ends after this many repeats instead of looping forever:
# the tests then fail on its silent success rather than hang.
LOOPS = 30


def _bronze_keys(harness, suffix: str) -> list[str]:
    return sorted(k for k, _, _ in harness.s3_objects() if k.startswith("bronze/") and k.endswith(suffix))


# -- 2. pagination guards ----------------------------------------------------------------------------


def test_next_link_to_the_same_page_stops_at_once_naming_endpoint_and_link(harness):
    endpoint = harness.endpoint("rawg", "genres")
    harness.replay.add_fault(path="/rawg/api/genres", kind="next_loop", times=LOOPS)
    with pytest.raises(WalkStopped) as err:
        harness.extract(endpoint)
    message = str(err.value)
    assert "rawg.genres" in message and "repeats page 1" in message
    assert "/rawg/api/genres?page_size=40" in message
    assert FAKE_RAWG_KEY not in message and "key=" not in message
    assert harness.replay.stats()["requests"] == 1  # the repeat is never requested
    assert not _bronze_keys(harness, "_manifest.json")


def test_new_links_that_serve_the_same_page_stop_on_the_second(harness):
    endpoint = harness.endpoint("rawg", "genres")
    harness.replay.add_fault(path="/rawg/api/genres", kind="next_same_page", times=LOOPS)
    with pytest.raises(WalkStopped) as err:
        harness.extract(endpoint)
    message = str(err.value)
    assert "rawg.genres: page 2" in message and "same 19 records as page 1" in message
    assert "replay_loop=1" in message and FAKE_RAWG_KEY not in message
    assert harness.replay.stats()["requests"] == 2


@pytest.mark.parametrize("parallel_pages", [1, 4])
def test_page_cap_stops_keeps_the_landed_parts_and_a_retry_resumes(harness, parallel_pages):
    endpoint = harness.endpoint("rawg", "games", max_pages=2, parallel_pages=parallel_pages)
    with pytest.raises(WalkStopped) as err:
        harness.extract(endpoint, part_records=40)
    message = str(err.value)
    assert "rawg.games: page 3 would pass the endpoint's cap of 2 pages (`max_pages`" in message
    assert "page=3" in message and FAKE_RAWG_KEY not in message
    assert harness.replay.stats()["requests"] == 2
    assert len(_bronze_keys(harness, ".checkpoint.json")) == 2  # pages 1 and 2 landed, one part each
    assert not _bronze_keys(harness, "_manifest.json")
    # A retry with room resumes after the landed parts: one more call, every record exactly once.
    resumed = harness.extract(
        harness.endpoint("rawg", "games", parallel_pages=parallel_pages), part_records=40
    )
    assert resumed.api_calls == 1 and resumed.records == 113
    assert harness.replay.stats()["requests"] == 3


def test_call_cap_stops_a_list_walk(harness):
    endpoint = harness.endpoint("rawg", "games", max_api_calls=2, parallel_pages=1)
    with pytest.raises(WalkStopped) as err:
        harness.extract(endpoint)
    message = str(err.value)
    assert "rawg.games: 2 API calls made for this date, the endpoint's cap is 2 (`max_api_calls`" in message
    assert "page=3" in message and FAKE_RAWG_KEY not in message
    assert harness.replay.stats()["requests"] == 2


def test_call_cap_stops_fan_out_details(harness):
    endpoint = harness.endpoint("tcgdex", "cards", max_api_calls=10)
    with pytest.raises(WalkStopped) as err:
        harness.extract(endpoint)
    assert "tcgdex.cards: 10 API calls made" in str(err.value) and "/cards/" in str(err.value)
    # Details run `fan_out.concurrency` at a time: the calls already under way when the cap is met finish.
    assert 10 <= harness.replay.stats()["requests"] < 10 + endpoint.fan_out.concurrency


def test_an_error_that_ends_a_walk_names_the_last_link(harness):
    endpoint = harness.endpoint("rawg", "platforms", parallel_pages=1)
    harness.replay.add_fault(path="/rawg/api/platforms", kind="401", times=2)
    with pytest.raises(Exception) as err:  # noqa: PT011 - the note is what is checked
        harness.extract(endpoint)
    notes = "\n".join(getattr(err.value, "__notes__", []))
    assert "rawg.platforms: the walk stopped after requesting" in notes and "/rawg/api/platforms" in notes
    assert FAKE_RAWG_KEY not in notes


def test_execution_timeout_names_the_endpoint_and_link_and_a_retry_resumes(harness):
    """The timeout Airflow puts around every task's execute (SIGALRM -> AirflowTaskTimeout in the
    task's main thread), around an extract of slow pages."""
    from airflow.sdk.exceptions import AirflowTaskTimeout
    from airflow.sdk.execution_time.timeout import timeout

    endpoint = harness.endpoint("rawg", "games", parallel_pages=1)
    harness.replay.set_latency(500)
    # Earlier tests' garbage collected first: Python swallows an exception raised inside a finalizer
    # ("Exception ignored in: <finalize ...>"), and the alarm once landed in one of theirs mid-suite.
    gc.collect()
    with pytest.raises(AirflowTaskTimeout) as err, timeout(1.2):
        harness.extract(endpoint, part_records=40)
    notes = "\n".join(getattr(err.value, "__notes__", []))
    assert "rawg.games: the walk stopped after requesting http://127.0.0.1:" in notes and "page=" in notes
    assert FAKE_RAWG_KEY not in notes
    landed = len(_bronze_keys(harness, ".checkpoint.json"))
    assert 1 <= landed < 3 and not _bronze_keys(harness, "_manifest.json")
    harness.replay.set_latency(0)
    resumed = harness.extract(endpoint, part_records=40)
    assert resumed.records == 113 and resumed.api_calls == 3 - landed  # one call per page not landed


# -- 3. text the warehouse cannot store --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("nul_char", "NUL character (U+0000)"),
        ("lone_surrogate", "lone surrogate U+D800"),
        ("invalid_utf8", "invalid UTF-8 byte 0xFF"),
    ],
)
def test_unstorable_text_quarantines_its_record_and_the_rest_land(harness, kind, reason):
    endpoint = harness.endpoint("pokemontcg", "cards")
    harness.replay.add_fault(path="/pokemontcg/v2/cards", kind=kind, times=1)
    result, loaded = harness.run(endpoint)
    assert result.records == 258 and result.invalid == 1
    assert loaded.status == "loaded" and loaded.copied == 257
    assert harness.query('SELECT count(*) FROM raw."pokemontcg__cards"') == [(257,)]
    rows = harness.query("SELECT errors, raw_record->>'name', record_key FROM raw.quarantine")
    assert len(rows) == 1
    errors, name, record_key = rows[0]
    assert errors == [{"type": "unstorable_text", "loc": ["name"], "msg": errors[0]["msg"]}]
    assert reason in errors[0]["msg"]
    assert name.endswith("\ufffd") and record_key  # the stored copy: U+FFFD in the bad character's place
    assert harness.query("SELECT status, quarantined FROM ops.ingest_runs") == [("loaded", 1)]


def test_unstorable_text_on_planned_pages_is_quarantined_too(harness):
    endpoint = harness.endpoint("rawg", "games", parallel_pages=2)
    # The first hit is page 1 (walked alone), the second a planned page (fetched in parallel).
    harness.replay.add_fault(path="/rawg/api/games", kind="nul_char", times=2)
    result, loaded = harness.run(endpoint)
    assert result.records == 113 and result.invalid == 2 and loaded.copied == 111
    assert harness.query("SELECT count(*) FROM raw.quarantine WHERE errors::text LIKE '%%U+0000%%'") == [(2,)]


# -- 5. the API's count against the records that landed ---------------------------------------------


def test_short_read_is_a_warning_in_the_result_and_ops_ingest_runs(harness, caplog):
    endpoint = harness.endpoint("rawg", "platforms", parallel_pages=1)
    harness.replay.add_fault(path="/rawg/api/platforms", kind="short_read", times=1)
    result, loaded = harness.run(endpoint)
    assert (result.records, result.expected_records, result.count_check) == (40, 50, "short_read")
    assert loaded.status == "loaded" and loaded.copied == 40
    assert loaded.count_check == "short_read"
    assert "short read — the API's count said 50 records, 40 landed (-20.0%; tolerance 1.0%)" in (
        loaded.count_warning or ""
    )
    row = harness.query("SELECT status, expected_records, records, count_check, message FROM ops.ingest_runs")
    assert row[0][:4] == ("loaded", 50, 40, "short_read") and "short read" in row[0][4]
    assert "short read" in caplog.text


def test_short_read_fails_the_load_where_the_count_is_exact(harness):
    endpoint = harness.endpoint("rawg", "platforms", parallel_pages=1, count_exact=True)
    harness.replay.add_fault(path="/rawg/api/platforms", kind="short_read", times=1)
    result = harness.extract(endpoint)
    with pytest.raises(CountMismatchError) as err:
        harness.load(endpoint, result)
    assert "rawg__platforms" in str(err.value) and "count said 50 records, 40 landed" in str(err.value)
    assert harness.query("SELECT status, count_check FROM ops.ingest_runs") == [
        ("failed_count_mismatch", "short_read")
    ]
    assert harness.query('SELECT count(*) FROM raw."rawg__platforms"') == [(0,)]


def test_full_read_checks_ok(harness):
    result, loaded = harness.run(harness.endpoint("rawg", "platforms", count_exact=True))
    assert (result.expected_records, result.count_check, loaded.count_warning) == (50, "ok", None)
    assert harness.query("SELECT count_check, message FROM ops.ingest_runs") == [("ok", None)]


# -- 7. a key echoed inside a record's data ----------------------------------------------------------


def test_key_echoed_in_a_record_field_never_lands(harness):
    endpoint = harness.endpoint("rawg", "genres")
    harness.replay.add_fault(path="/rawg/api/genres", kind="echo_key", times=0, field="image_background")
    result, loaded = harness.run(endpoint)
    assert loaded.copied == 19 and result.invalid == 0
    for key, body, metadata in harness.s3_objects():
        assert FAKE_RAWG_KEY.encode() not in body, key
        assert FAKE_RAWG_KEY not in json.dumps(metadata), key
        if key.endswith(".parquet"):
            assert FAKE_RAWG_KEY not in json.dumps(pq.read_table(io.BytesIO(body)).to_pylist()), key
    dump = harness.query("""
        SELECT string_agg(t, '') FROM (
            SELECT row_to_json(g)::text AS t FROM raw."rawg__genres" g
            UNION ALL SELECT row_to_json(r)::text FROM ops.ingest_runs r) x""")[0][0]
    assert FAKE_RAWG_KEY not in dump
    # The field was there and carried the key on the wire: it lands with the key replaced.
    images = harness.query("""SELECT DISTINCT payload->>'image_background' FROM raw."rawg__genres" """)
    assert images == [("https://media.replay.invalid/media/image_background.jpg?key=***",)]
