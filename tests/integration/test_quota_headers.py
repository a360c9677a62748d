"""The HTTP client against an API that announces its quota (the replay server over real HTTP):
it slows down as the quota runs low and never runs into the 429 the server would send."""

from __future__ import annotations

import time

import pytest

from game_market_pipeline.config.models import Auth, AuthKind
from game_market_pipeline.ingest.http_client import ApiClient
from game_market_pipeline.ingest.rate_limit import TokenBucket
from tests.conftest import FAKE_RAWG_KEY

pytestmark = pytest.mark.integration


def _client(replay) -> ApiClient:
    return ApiClient(
        replay.base_url("rawg"),
        Auth(kind=AuthKind.QUERY_PARAM, name="key"),
        FAKE_RAWG_KEY,
        TokenBucket(1000, 1000),
        timeout_seconds=5,
        source="rawg",
    )


def test_client_paces_itself_by_the_quota_headers_and_never_hits_429(clean_replay_server):
    clean_replay_server.set_quota(4, reset_seconds=3)
    client = _client(clean_replay_server)
    started = time.monotonic()
    try:
        for _ in range(6):  # more than the window allows: the client must wait for the reset
            assert client.get_json("/genres")["count"] == 19
    finally:
        client.close()
    assert time.monotonic() - started >= 2.5  # it waited for the window's reset
    assert clean_replay_server.stats()["by_status"] == {"200": 6}  # and never ran into the 429
    assert client.retries == 0 and client.calls == 6


def test_retry_after_of_an_exhausted_quota_is_honoured(clean_replay_server):
    clean_replay_server.set_quota(0, reset_seconds=2)
    client = _client(clean_replay_server)
    started = time.monotonic()
    try:
        with pytest.raises(Exception):  # noqa: B017 - the quota never renews within the attempts
            client.get_json("/genres")
    finally:
        client.close()
    statuses = clean_replay_server.stats()["by_status"]
    assert set(statuses) == {"429"} and statuses["429"] == client.policy.max_attempts
    # Each retry waited at least the Retry-After the server sent (>= 1 s), not the 0.5 s backoff.
    assert time.monotonic() - started >= client.policy.max_attempts - 1
