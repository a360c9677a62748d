"""Guards of one date's walk: stop a walk that loops or runs away before it costs thousands of calls.

- a repeated request (the same URL and parameters as an earlier page of this attempt),
- a repeated page (the same records, in the same order, as an earlier page of this attempt:
  an API that ignores its paging parameter),
- the endpoint's page cap (`max_pages`: the page's position in the date's walk, resumes included),
- the endpoint's call cap (`max_api_calls`: calls of the date's extract, retries, fan-out details
  and the landed parts of earlier attempts included).

Each raises WalkStopped, whose message names the endpoint, the page and the link (credential
parameters removed). Parts landed before the stop stay in S3 with their checkpoints, so a retry
resumes after the last one (and meets the same guard if the API still loops).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from game_market_pipeline.exceptions import PipelineError
from game_market_pipeline.ingest.paginators import PageRequest

if TYPE_CHECKING:
    from game_market_pipeline.config.models import ResolvedEndpoint
    from game_market_pipeline.ingest.http_client import ApiClient


class WalkStopped(PipelineError):
    """A walk guard stopped the extract; what landed before it stays and a retry resumes from it."""


class WalkGuard:
    """Consulted before every request of a walk (`before_page`, `before_call`) and after every
    page's records are checked (`after_page`). Thread-safe enough for its use: the page checks run
    in the walk's own thread; `before_call` only reads counters."""

    def __init__(self, endpoint: ResolvedEndpoint, client: ApiClient, calls_before: int = 0) -> None:
        self.where = f"{endpoint.source}.{endpoint.name}"
        self.max_pages = endpoint.max_pages
        self.max_calls = endpoint.max_api_calls
        self._client = client
        self._calls_before = calls_before  # calls of earlier attempts, as their landed parts counted
        self._requested: dict[str, int] = {}  # link -> index of the page it fetched
        self._pages: dict[bytes, int] = {}  # digest of a page's record hashes -> page index
        self.last_link: str | None = None

    def link(self, request: PageRequest) -> str:
        """The request as one absolute URL, its parameters sorted and every credential removed: two
        requests are the same page exactly when their links are equal."""
        parts = urlsplit(self._client.url_for(request.url))
        query = parse_qsl(parts.query, keep_blank_values=True)
        query += [(str(k), str(v)) for k, v in request.params.items()]
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(sorted(query)), ""))
        redactor = self._client.redactor
        return redactor.text(redactor.url(url))

    def before_page(self, request: PageRequest) -> None:
        link = self.link(request)
        if request.index > self.max_pages:
            raise WalkStopped(
                f"{self.where}: page {request.index} would pass the endpoint's cap of {self.max_pages} pages "
                f"(`max_pages` in the config); stopped before {link}. {self._kept()}"
            )
        earlier = self._requested.get(link)
        if earlier is not None:
            raise WalkStopped(
                f"{self.where}: the link to page {request.index} repeats page {earlier} ({link}): the "
                f"API's pagination loops; stopped. {self._kept()}"
            )
        self._requested[link] = request.index
        self.last_link = link
        self.before_call(link)

    def before_call(self, link: str) -> None:
        made = self._calls_before + self._client.calls
        if made >= self.max_calls:
            raise WalkStopped(
                f"{self.where}: {made} API calls made for this date, the endpoint's cap is {self.max_calls} "
                f"(`max_api_calls` in the config); stopped before {self._client.redactor.text(link)}. {self._kept()}"
            )

    def before_details(self, request: PageRequest, calls: int) -> None:
        """Before a fan-out page's `calls` detail calls (the budgeted guard takes their grants)."""

    def after_page(self, request: PageRequest, record_hashes: Iterable[str]) -> None:
        digest = hashlib.sha256()
        records = 0
        for content_hash in record_hashes:
            digest.update(content_hash.encode())
            records += 1
        if not records:
            return  # an empty page ends a walk anyway
        key = digest.digest()
        earlier = self._pages.get(key)
        if earlier is not None:
            raise WalkStopped(
                f"{self.where}: page {request.index} ({self.link(request)}) holds the same {records} records "
                f"as page {earlier}: the API ignores its paging; stopped. {self._kept()}"
            )
        self._pages[key] = request.index

    @staticmethod
    def _kept() -> str:
        return "Parts landed before this stay in S3; a retry resumes after the last one."
