"""Paginators, retry/backoff decisions, rate limiter, redaction and hashing."""

from __future__ import annotations

import logging
import random

import pytest

from game_market_pipeline.config.models import (
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
)
from game_market_pipeline.exceptions import ApiResponseError
from game_market_pipeline.ingest.hashing import canonical_json, content_hash
from game_market_pipeline.ingest.http_client import (
    RetryPolicy,
    backoff_seconds,
    parse_retry_after,
)
from game_market_pipeline.ingest.paginators import PageRequest, make_paginator
from game_market_pipeline.ingest.rate_limit import TokenBucket, quota_delay
from game_market_pipeline.ingest.record_selector import select_records
from game_market_pipeline.ingest.redaction import Redactor, install_log_redaction


def test_page_number_walks_until_short_page_or_total():
    p = make_paginator(
        PageNumberPaginator(
            kind="page_number",
            page_param="page",
            size_param="pageSize",
            page_size=10,
            total_field="totalCount",
        )
    )
    first = p.first("/cards", {"q": "x"})
    assert first.params == {"q": "x", "page": 1, "pageSize": 10}
    second = p.after(first, {"totalCount": 25}, 10)
    assert second == PageRequest(2, "/cards", {"q": "x", "page": 2, "pageSize": 10})
    third = p.after(second, {"totalCount": 25}, 10)
    assert third is not None and third.params["page"] == 3
    assert p.after(third, {"totalCount": 25}, 5) is None
    assert p.after(first, {"totalCount": 10}, 10) is None  # total reached exactly
    plan = p.plan(first, {"totalCount": 25}, 10)
    assert [r.params["page"] for r in plan] == [2, 3] and [r.index for r in plan] == [2, 3]


def test_page_number_without_total_stops_on_empty_page():
    p = make_paginator(PageNumberPaginator(kind="page_number", page_size=2))
    first = p.first("/series", {})
    assert p.after(first, [{"id": 1}, {"id": 2}], 2) is not None
    assert p.after(first, [], 0) is None
    assert p.plan(first, [], 2) is None


def test_offset_paginator():
    p = make_paginator(OffsetPaginator(kind="offset", page_size=20, total_field="count"))
    first = p.first("/pokemon", {})
    assert first.params == {"offset": 0, "limit": 20}
    nxt = p.after(first, {"count": 45}, 20)
    assert nxt.params["offset"] == 20
    assert p.after(PageRequest(3, "/pokemon", {"offset": 40, "limit": 20}), {"count": 45}, 5) is None
    assert [r.params["offset"] for r in p.plan(first, {"count": 45}, 20)] == [20, 40]


def test_next_link_plans_only_with_a_configured_count_and_page_parameter():
    # Nothing API-specific in the generic paginator: without the settings it only follows links.
    p = make_paginator(NextLinkPaginator(kind="next_link"))
    body = {"count": 95, "next": "http://h/api/games?page=2&page_size=40", "results": [{}] * 40}
    assert p.plan(p.first("/games", {}), body, 40) is None
    assert p.total(body) is None


def test_next_link_follows_and_plans_page_addressed_links():
    p = make_paginator(
        NextLinkPaginator(kind="next_link", total_field="count", page_param="page", size_param="page_size")
    )
    body = {"count": 95, "next": "http://h/api/games?key=abc&page=2&page_size=40", "results": [{}] * 40}
    first = p.first("/games", {"page_size": 40})
    nxt = p.after(first, body, 40)
    assert nxt.url == body["next"] and nxt.params == {}
    assert p.after(nxt, {"next": None}, 15) is None
    plan = p.plan(first, body, 40)
    assert [r.url.split("page=")[1].split("&")[0] for r in plan] == ["2", "3"]
    assert p.plan(first, {"count": 95, "next": "http://h/x?cursor=abc"}, 40) is None


def test_next_link_plans_only_with_the_fields_its_config_names():
    # Nothing of RAWG is built in: without total_field/page_param the links are followed one by one.
    bare = make_paginator(NextLinkPaginator(kind="next_link"))
    body = {"count": 95, "next": "http://h/api/games?page=2&page_size=40"}
    first = bare.first("/games", {})
    assert bare.total(body) is None and bare.plan(first, body, 40) is None
    assert bare.after(first, body, 40).url == body["next"]
    # Another API's names work the same way.
    other = make_paginator(
        NextLinkPaginator(
            kind="next_link",
            next_field="links.next",
            total_field="meta.total",
            page_param="p",
            size_param="n",
        )
    )
    body = {"meta": {"total": 50}, "links": {"next": "http://h/items?p=2&n=20"}}
    assert other.total(body) == 50
    assert [r.url for r in other.plan(other.first("/items", {}), body, 20)] == [
        "http://h/items?p=2&n=20",
        "http://h/items?p=3&n=20",
    ]


def test_unknown_paginator_lists_the_known_ones():
    with pytest.raises(ValueError, match="page_number.*next_link.*offset"):
        make_paginator("cursorz")


def test_select_records():
    assert select_records({"data": [1]}, "data", "x") == [1]
    assert select_records([1, 2], "$", "x") == [1, 2]
    assert select_records({"results": None}, "results", "x") == []
    with pytest.raises(ApiResponseError, match="no 'results'.*keys: data"):
        select_records({"data": []}, "results", "rawg.games page 3")


def test_backoff_honours_retry_after_with_floor_and_cap():
    policy = RetryPolicy(
        retry_after_floor_seconds=1, retry_after_cap_seconds=60, base_seconds=0.5, max_backoff_seconds=8
    )
    assert backoff_seconds(1, policy, 7, is_rate_limit=True) == 7
    assert backoff_seconds(1, policy, 0, is_rate_limit=True) == 1  # floor when 0
    assert backoff_seconds(1, policy, None, is_rate_limit=True) == 1  # floor when missing
    assert backoff_seconds(1, policy, 3600, is_rate_limit=True) == 60  # cap
    rng = random.Random(1)
    waits = [backoff_seconds(n, policy, None, False, rng) for n in range(1, 8)]
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0 and all(w <= 8 for w in waits)
    assert waits[-1] >= 4  # grows exponentially up to the cap


def test_parse_retry_after():
    assert parse_retry_after("5") == 5.0 and parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past


def test_token_bucket_rate_and_burst():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(2, burst=3, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        assert bucket.acquire() == 0  # the burst is free
    bucket.acquire()
    bucket.acquire()
    assert now[0] == pytest.approx(1.0)  # then 2 per second
    with pytest.raises(ValueError):
        TokenBucket(0)


def test_redaction_of_urls_text_and_logs(caplog):
    secret = "sekrit-key-0123456789"
    r = Redactor([secret])
    url = f"https://api.rawg.io/api/games?key={secret}&page=2"
    assert r.url(url) == "https://api.rawg.io/api/games?page=2"
    assert secret not in r.text(f"boom on {url} with header {secret}")
    assert "key=***" in r.text("GET /games?key=othervalue&page=1")
    install_log_redaction(r)
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logging.getLogger("urllib3.connectionpool").debug('"GET %s HTTP/1.1" 200', url)
    assert caplog.records and secret not in caplog.text


def test_content_hash_is_canonical():
    a = {"b": 1, "a": [1, {"y": "é", "x": None}]}
    b = {"a": [1, {"x": None, "y": "é"}], "b": 1}
    assert canonical_json(a) == canonical_json(b) == '{"a":[1,{"x":null,"y":"é"}],"b":1}'
    assert content_hash(a) == content_hash(b) and len(content_hash(a)) == 64
    assert content_hash(a) != content_hash({**a, "b": 2})


def test_quota_delay_reads_the_headers_apis_send():
    # Plenty left: no pause, whatever the header spelling.
    assert quota_delay({"X-RateLimit-Remaining": "500", "X-RateLimit-Reset": "60"}) == 0
    assert quota_delay({}) == 0
    # Few left: spread them over the time to the reset (4 left, 50 s: one call per 10 s).
    assert quota_delay({"RateLimit-Remaining": "4", "RateLimit-Reset": "50"}) == pytest.approx(10.0)
    # None left: wait for the reset; the per-window variants count, the smallest wins.
    assert quota_delay(
        {"X-RateLimit-Remaining-Minute": "0", "X-RateLimit-Remaining-Day": "900", "X-RateLimit-Reset": "42"}
    ) == pytest.approx(42.0)
    # A reset given as a Unix time; the IETF combined field; Retry-After on a successful answer.
    assert quota_delay(
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1700000030"}, now=1_700_000_000
    ) == pytest.approx(30.0)
    assert quota_delay({"RateLimit": "limit=100, remaining=1, reset=8"}) == pytest.approx(4.0)
    assert quota_delay({"Retry-After": "7"}) == pytest.approx(7.0)
    # Capped; unparseable values are ignored.
    assert quota_delay({"RateLimit-Remaining": "0", "RateLimit-Reset": "86400"}, max_pause=300) == 300
    assert quota_delay({"RateLimit-Remaining": "soon", "Retry-After": "later"}) == 0


def test_token_bucket_pause_holds_every_caller():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(100, burst=10, clock=lambda: now[0], sleep=sleep)
    bucket.acquire()
    bucket.pause(5)
    assert bucket.acquire() == pytest.approx(5.0) and sum(slept) == pytest.approx(5.0)
    assert bucket.acquire() == 0
