"""HTTP access to one API source: auth, rate limit, retries with backoff, redaction, call counting.

Every attempt is counted before it is sent (`calls`, and the warehouse's `CallCounter` when one is
given). `cancel(reason)` stops every further attempt at once, from any thread: the extract calls it
when a background upload fails or its lease is lost, so no call is made that could not land.

Retried: 429 (honouring Retry-After, with a floor and a cap), 5xx, timeouts, connection errors and
unparseable bodies. Not retried: any other 4xx — 401/403 say plainly that the key is wrong.
Every URL and message leaving this module is redacted; the key is added per request and never
stored in a URL the caller sees.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from game_market_pipeline.config.models import Auth, AuthKind
from game_market_pipeline.exceptions import ApiAuthError, ApiError, ApiNotFoundError
from game_market_pipeline.ingest.json_codec import decode_json, decode_json_text, json_body_text
from game_market_pipeline.ingest.rate_limit import TokenBucket, quota_delay
from game_market_pipeline.ingest.redaction import Redactor, install_log_redaction, strip_params

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    # Retry-After of 0 or absent still waits this long: hammering a 429 only extends the ban.
    retry_after_floor_seconds: float = 1.0
    retry_after_cap_seconds: float = 120.0
    # Quota headers (X-RateLimit-Remaining*, RateLimit-*): at this many calls left, slow down.
    quota_low_water: int = 5
    quota_max_pause_seconds: float = 300.0


class CallCounterLike(Protocol):
    def add(self, source: str, n: int = 1) -> None: ...


class FetchCancelled(ApiError):
    """The run stopped fetching: something else failed (its reason is the message)."""


class RetryableHttpError(ApiError):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_seconds(
    attempt: int,
    policy: RetryPolicy,
    retry_after: float | None,
    is_rate_limit: bool,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1)."""
    if is_rate_limit:
        wanted = retry_after if retry_after else 0.0
        return min(policy.retry_after_cap_seconds, max(policy.retry_after_floor_seconds, wanted))
    # Exponential backoff with full jitter.
    ceiling = min(policy.max_backoff_seconds, policy.base_seconds * (2 ** (attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableHttpError)


class ApiClient:
    def __init__(
        self,
        base_url: str,
        auth: Auth,
        secret: str | None,
        rate_limiter: TokenBucket | None,
        timeout_seconds: float = 30.0,
        retry_policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
        source: str = "api",
        sleep: Any = None,
        call_counter: CallCounterLike | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self._secret = secret or None
        self.rate_limiter = rate_limiter
        self.timeout = timeout_seconds
        self.policy = retry_policy or RetryPolicy()
        self.source = source
        self.redactor = Redactor([self._secret] if self._secret else [])
        install_log_redaction(self.redactor)
        self._session = session or requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=8, pool_maxsize=64)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self._sleep = sleep
        self.call_counter = call_counter
        self.cancelled: str | None = None

    def cancel(self, reason: str) -> None:
        """Refuse every further attempt (retries included), with `reason` (redacted) as the error."""
        self.cancelled = self.redactor.text(reason)

    # -- URLs -------------------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> str:
        """Absolute URL for an endpoint path or a link the API returned (host-relative ones too)."""
        if urlsplit(path_or_url).scheme:
            return path_or_url
        if path_or_url.startswith("/") and not path_or_url.startswith(urlsplit(self.base_url).path or "/"):
            # An endpoint path like /games is relative to the base URL, not to the host.
            return self.base_url + path_or_url
        if path_or_url.startswith("/"):
            return urljoin(self.base_url + "/", path_or_url)
        return f"{self.base_url}/{path_or_url}"

    def _auth_params_and_headers(self) -> tuple[dict[str, str], dict[str, str]]:
        if not self._secret or self.auth.kind == AuthKind.NONE or not self.auth.name:
            return {}, {}
        if self.auth.kind == AuthKind.QUERY_PARAM:
            return {self.auth.name: self._secret}, {}
        return {}, {self.auth.name: self._secret}

    # -- requests ---------------------------------------------------------------------------

    def get_json(self, path_or_url: str, params: dict[str, Any] | None = None) -> Any:
        return self._with_retries(self._get_json_once, path_or_url, params)

    def get_content(self, path_or_url: str, params: dict[str, Any] | None = None) -> bytes:
        """The body as bytes, with the same retries as `get_json` but not decoded: for a caller
        that decodes elsewhere (a check worker process). A body that turns out not to be UTF-8 JSON
        is the caller's to refetch with `get_json`, which retries truncated bodies."""
        return self._with_retries(
            lambda url, query: self._get_response_once(url, query).content, path_or_url, params
        )

    def _with_retries(self, attempt: Any, path_or_url: str, params: dict[str, Any] | None) -> Any:
        url = self.url_for(path_or_url)
        if self.auth.kind == AuthKind.QUERY_PARAM and self.auth.name:
            # A next-link echoes the key; drop it and add ours, so a rotated key is used as-is.
            url = strip_params(url, {self.auth.name})
        retrying = Retrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            retry=retry_if_exception(_is_retryable),
            wait=self._wait,
            before_sleep=self._before_sleep,
            reraise=True,
            **({"sleep": self._sleep} if self._sleep else {}),
        )
        try:
            return retrying(attempt, url, params or {})
        except RetryableHttpError as exc:
            raise ApiError(
                f"{self.source}: giving up on {self.redactor.url(url)} after {self.policy.max_attempts} attempts: "
                f"{self.redactor.text(exc)}"
            ) from None

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        # A 429, or any retryable answer that says when to come back (a 503 with Retry-After).
        is_rate_limit = isinstance(exc, RetryableHttpError) and (
            exc.status == 429 or exc.retry_after is not None
        )
        retry_after = exc.retry_after if isinstance(exc, RetryableHttpError) else None
        return backoff_seconds(state.attempt_number, self.policy, retry_after, is_rate_limit)

    def _before_sleep(self, state: RetryCallState) -> None:
        with self._lock:
            self.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0
        log.warning(
            "%s: attempt %s failed (%s); retrying in %.1fs",
            self.source,
            state.attempt_number,
            self.redactor.text(exc),
            wait,
        )

    def _get_response_once(self, url: str, params: dict[str, Any]) -> requests.Response:
        auth_params, headers = self._auth_params_and_headers()
        if self.rate_limiter:
            self.rate_limiter.acquire()
        if self.cancelled is not None:
            raise FetchCancelled(f"{self.source}: stopped fetching: {self.cancelled}")
        with self._lock:
            self.calls += 1
        if self.call_counter is not None:
            self.call_counter.add(self.source)
        safe_url = self.redactor.url(url)
        try:
            response = self._session.get(
                url, params={**params, **auth_params}, headers=headers, timeout=self.timeout
            )
        except requests.Timeout:
            raise RetryableHttpError(f"timeout after {self.timeout}s on {safe_url}") from None
        except requests.ConnectionError as exc:
            raise RetryableHttpError(f"connection error on {safe_url}: {self.redactor.text(exc)}") from None
        status = response.status_code
        if status == 429:
            raise RetryableHttpError(
                f"429 rate limited on {safe_url}", 429, parse_retry_after(response.headers.get("Retry-After"))
            )
        if status >= 500:
            raise RetryableHttpError(
                f"{status} server error on {safe_url}",
                status,
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            raise ApiAuthError(
                f"{self.source}: {status} on {safe_url}: the API key is missing or wrong — check the password of "
                f"the Airflow connection for this source ({self.redactor.text(response.text[:200])})"
            )
        if status == 404:
            raise ApiNotFoundError(
                f"{self.source}: 404 on {safe_url}: {self.redactor.text(response.text[:300])}"
            )
        if status >= 400:
            raise ApiError(
                f"{self.source}: {status} on {safe_url}: {self.redactor.text(response.text[:300])}"
            )
        self._respect_quota(response.headers)
        return response

    def _respect_quota(self, headers: Any) -> None:
        """Slow the whole source down when the API says its quota is running out (rate_limit.quota_delay)."""
        delay = quota_delay(headers, self.policy.quota_low_water, self.policy.quota_max_pause_seconds)
        if delay > 0 and self.rate_limiter is not None:
            log.info("%s: the API's quota headers ask for a pause of %.1fs", self.source, delay)
            self.rate_limiter.pause(delay)

    def _get_json_once(self, url: str, params: dict[str, Any]) -> Any:
        response = self._get_response_once(url, params)
        try:
            return decode_json(response.content)
        except ValueError:
            pass
        try:
            # Not UTF-8 (a server declaring another charset): requests decodes the text by its headers.
            # UTF-8 with invalid bytes: each becomes a lone surrogate (surrogateescape), so the check
            # quarantines only the records holding one (ingest/storable.py), never the whole page.
            return decode_json_text(
                json_body_text(response.content, response.encoding, lambda: response.text)
            )
        except ValueError:
            # A truncated body is usually a transient proxy or server fault: retry it.
            raise RetryableHttpError(
                f"malformed JSON from {self.redactor.url(url)} (status {response.status_code}, "
                f"{len(response.content)} bytes)",
                response.status_code,
            ) from None

    def close(self) -> None:
        self._session.close()
