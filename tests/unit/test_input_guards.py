"""The pieces of the input guards: unstorable text, payload redaction, the count check, the walk
guard's idea of "the same request", and the execution_timeout of every generated task."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from game_market_pipeline.config.loader import load_config
from game_market_pipeline.config.models import DEFAULT_EXECUTION_TIMEOUT_SECONDS, AuthKind
from game_market_pipeline.ingest.count_check import CountCheck
from game_market_pipeline.ingest.guards import WalkGuard, WalkStopped
from game_market_pipeline.ingest.hashing import hash_canonical
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.json_codec import json_body_text
from game_market_pipeline.ingest.paginators import PageRequest
from game_market_pipeline.ingest.redaction import Redactor
from game_market_pipeline.ingest.storable import storable_copy, unstorable_text
from game_market_pipeline.ingest.validate import ValidationStats, check_record, redact_secrets
from game_market_pipeline.records.registry import record_model

GENRE = {"id": 4, "name": "Action", "slug": "action", "games_count": 1, "image_background": None, "games": []}
KEY = "sekrit-key-0123456789"


# -- unstorable text -----------------------------------------------------------------------------------


def test_unstorable_text_names_each_place_and_kind():
    record = {"id": 1, "name": "a\x00b", "tags": [{"slug": "x\ud800"}], "ke\x00y": "v", "raw": "\udcff"}
    errors = unstorable_text(record)
    assert [(e["loc"], e["msg"].split(" (")[0].split(",")[0]) for e in errors] == [
        (["name"], "NUL character"),
        (["tags", 0, "slug"], "lone surrogate U+D800"),
        (["ke\ufffdy"], "NUL character"),  # a bad key: named by its storable form
        (["raw"], "invalid UTF-8 byte 0xFF in the response"),
    ]
    assert storable_copy(record) == {
        "id": 1,
        "name": "a\ufffdb",
        "tags": [{"slug": "x\ufffd"}],
        "ke\ufffdy": "v",
        "raw": "\ufffd",
    }


@pytest.mark.parametrize("bad", ["Act\x00ion", "Act\ud800ion", "Act\udcffion"])
def test_record_with_unstorable_text_is_quarantined_with_a_storable_copy(bad):
    stats = ValidationStats()
    checked = check_record({**GENRE, "name": bad}, record_model("rawg.Genre"), "id", stats)
    assert not checked.valid and checked.key == "4"
    assert checked.errors[0]["type"] == "unstorable_text" and checked.errors[0]["loc"] == ["name"]
    assert json.loads(checked.payload)["name"] == "Act\ufffdion"
    assert stats.invalid == 1 and stats.records == 1
    # The hash is of the record as sent: two different bad characters are two records.
    other = check_record({**GENRE, "name": "Act\x01ion"}, record_model("rawg.Genre"), "id", ValidationStats())
    assert checked.content_hash != other.content_hash


def test_an_escaped_backslash_before_u0000_is_ordinary_text():
    # JSON "Act\\u0000ion" is the text Act\u0000ion (a backslash): storable, valid.
    checked = check_record(
        {**GENRE, "name": "Act\\u0000ion"}, record_model("rawg.Genre"), "id", ValidationStats()
    )
    assert checked.valid


def test_json_body_text_keeps_invalid_utf8_bytes_as_surrogates_only_when_declared_utf8():
    body = b'{"name": "a\xffb"}'
    assert json_body_text(body, "utf-8", lambda: "unused") == '{"name": "a\udcffb"}'
    assert json_body_text(body, "ISO-8859-1", lambda: "as declared") == "as declared"
    assert json_body_text(body, None, lambda: "guessed") == "guessed"
    assert json_body_text(body, "no-such-charset", lambda: "requests") == "requests"


# -- secrets inside records ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "in_record"),
    [(KEY, KEY), ("sekrit+key/0123", "sekrit%2Bkey%2F0123"), ('sekrit"key0123', 'sekrit"key0123')],
    ids=["as-is", "percent-encoded", "json-escaped"],
)
def test_payload_redaction_replaces_every_form_of_the_secret(secret, in_record):
    record = {**GENRE, "image_background": f"https://media.example/a.jpg?key={in_record}"}
    checked = check_record(record, record_model("rawg.Genre"), "id", ValidationStats())
    redacted = redact_secrets(checked, Redactor([secret]))
    assert json.loads(redacted.payload)["image_background"] == "https://media.example/a.jpg?key=***"
    assert redacted.content_hash == hash_canonical(redacted.payload) != checked.content_hash


def test_payload_without_the_secret_is_the_same_record():
    checked = check_record(GENRE, record_model("rawg.Genre"), "id", ValidationStats())
    assert redact_secrets(checked, Redactor([KEY])) is checked


# -- the API's count -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "landed", "tolerance", "exact", "status"),
    [
        (None, 100, 0.01, False, None),
        (200, 200, 0.01, True, "ok"),
        (200, 198, 0.01, False, "ok"),
        (200, 197, 0.01, False, "short_read"),
        (200, 100, 0.01, False, "short_read"),
        (200, 203, 0.01, False, "long_read"),
        (200, 199, 0.5, True, "short_read"),
    ],
)
def test_count_check_status(expected, landed, tolerance, exact, status):
    check = CountCheck(expected, landed, tolerance, exact)
    assert check.status == status
    assert (check.message("ingest__s__e") is None) == (status in (None, "ok"))


# -- the walk guard ------------------------------------------------------------------------------------


@pytest.fixture
def rawg_games():
    return load_config().endpoint("rawg", "games")


def _client(endpoint):
    return ApiClient("http://127.0.0.1:9/rawg/api", endpoint.auth, KEY, None, source="rawg")


def test_the_same_link_in_another_spelling_is_a_repeat(rawg_games):
    assert rawg_games.auth.kind == AuthKind.QUERY_PARAM
    guard = WalkGuard(rawg_games, _client(rawg_games))
    guard.before_page(PageRequest(1, "/games", {"page_size": 40, "page": 1}))
    repeat = PageRequest(2, f"http://127.0.0.1:9/rawg/api/games?key={KEY}&page=1&page_size=40")
    with pytest.raises(WalkStopped) as err:
        guard.before_page(repeat)
    assert "repeats page 1 (http://127.0.0.1:9/rawg/api/games?page=1&page_size=40)" in str(err.value)
    assert KEY not in str(err.value)
    guard.before_page(PageRequest(2, "/games", {"page_size": 40, "page": 2}))  # a new page is fine


def test_page_cap_and_call_cap(rawg_games):
    endpoint = rawg_games.model_copy(update={"max_pages": 3, "max_api_calls": 5})
    client = _client(endpoint)
    guard = WalkGuard(endpoint, client, calls_before=4)
    guard.before_page(PageRequest(3, "/games", {"page": 3}))
    with pytest.raises(WalkStopped, match=r"page 4 would pass the endpoint's cap of 3 pages"):
        guard.before_page(PageRequest(4, "/games", {"page": 4}))
    client.calls = 1  # 4 landed by earlier attempts + 1 now: the cap
    with pytest.raises(WalkStopped, match=r"5 API calls made for this date, the endpoint's cap is 5"):
        guard.before_call("/games/1")


def test_a_page_with_the_same_records_as_an_earlier_one_is_a_repeat(rawg_games):
    guard = WalkGuard(rawg_games, _client(rawg_games))
    guard.after_page(PageRequest(1, "/games", {"page": 1}), ["a", "b"])
    guard.after_page(PageRequest(2, "/games", {"page": 2}), ["b", "a"])  # same records, other order: new
    guard.after_page(PageRequest(3, "/games", {"page": 3}), [])
    guard.after_page(PageRequest(4, "/games", {"page": 4}), [])  # empty pages never repeat
    with pytest.raises(WalkStopped, match=r"page 5 .* holds the same 2 records as page 1"):
        guard.after_page(PageRequest(5, "/games", {"page": 5}), ["a", "b"])


# -- execution_timeout ---------------------------------------------------------------------------------


def test_every_generated_task_has_the_configured_execution_timeout():
    from game_market_pipeline.factory.build import build_dags

    config = load_config()
    dags = build_dags(config)
    assert len(dags) == len(config.endpoints)
    for endpoint in config.endpoints:
        for task in dags[endpoint.dag_id].tasks:
            assert task.execution_timeout == timedelta(seconds=endpoint.execution_timeout_seconds), task
    assert config.endpoint("rawg", "games").execution_timeout_seconds == 4 * 3600  # the YAML's value
    # An endpoint whose source sets none gets the fallback.
    fields = type(config.endpoints[0]).model_fields
    assert fields["execution_timeout_seconds"].default == DEFAULT_EXECUTION_TIMEOUT_SECONDS
