"""Paginators, chosen by name in the config: `page_number`, `next_link`, `offset`, `none`.

A paginator turns one response into the request for the next page (`after`) and, when the
response says how many records exist, into the list of every remaining request (`plan`) so pages
can be fetched in parallel within the source's rate limit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from game_market_pipeline.config.models import (
    KNOWN_PAGINATORS,
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
)


@dataclass(frozen=True)
class PageRequest:
    index: int  # 1-based position of the page in this endpoint's walk
    url: str  # endpoint path or absolute URL, never carrying a credential
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "url": self.url, "params": self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageRequest:
        return cls(int(data["index"]), str(data["url"]), dict(data.get("params") or {}))


def _dig(body: Any, dotted: str | None) -> Any:
    if not dotted:
        return None
    value = body
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Paginator:
    kind = "base"

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        return PageRequest(1, path, dict(params))

    def after(self, request: PageRequest, body: Any, n_records: int) -> PageRequest | None:
        raise NotImplementedError

    def plan(self, request: PageRequest, body: Any, n_records: int) -> list[PageRequest] | None:
        """Every request after `request`, if the body tells how many there are; else None."""
        return None

    def total(self, body: Any) -> int | None:
        """How many records the whole walk has, where the body says (RAWG's `count`); else None."""
        return None


class SinglePage(Paginator):
    kind = "none"

    def after(self, request: PageRequest, body: Any, n_records: int) -> PageRequest | None:
        return None


class PageNumber(Paginator):
    kind = "page_number"

    def __init__(self, config: PageNumberPaginator):
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        c = self.config
        return PageRequest(1, path, {**params, c.page_param: c.first_page, c.size_param: c.page_size})

    def _page(self, request: PageRequest) -> int:
        return int(request.params[self.config.page_param])

    def total(self, body: Any) -> int | None:
        return _as_int(_dig(body, self.config.total_field))

    def _total_pages(self, body: Any) -> int | None:
        total = _as_int(_dig(body, self.config.total_field))
        return None if total is None else math.ceil(total / self.config.page_size)

    def after(self, request: PageRequest, body: Any, n_records: int) -> PageRequest | None:
        if n_records == 0 or n_records < self.config.page_size:
            return None
        page = self._page(request)
        total_pages = self._total_pages(body)
        if total_pages is not None and page - self.config.first_page + 1 >= total_pages:
            return None
        return PageRequest(
            request.index + 1, request.url, {**request.params, self.config.page_param: page + 1}
        )

    def plan(self, request: PageRequest, body: Any, n_records: int) -> list[PageRequest] | None:
        total_pages = self._total_pages(body)
        if total_pages is None or n_records < self.config.page_size:
            return None
        page = self._page(request)
        last_page = self.config.first_page + total_pages - 1
        return [
            PageRequest(
                request.index + (p - page), request.url, {**request.params, self.config.page_param: p}
            )
            for p in range(page + 1, last_page + 1)
        ]


class Offset(Paginator):
    kind = "offset"

    def __init__(self, config: OffsetPaginator):
        self.config = config

    def first(self, path: str, params: dict[str, Any]) -> PageRequest:
        c = self.config
        return PageRequest(1, path, {**params, c.offset_param: 0, c.limit_param: c.page_size})

    def total(self, body: Any) -> int | None:
        return _as_int(_dig(body, self.config.total_field))

    def after(self, request: PageRequest, body: Any, n_records: int) -> PageRequest | None:
        c = self.config
        offset = int(request.params[c.offset_param]) + n_records
        total = _as_int(_dig(body, c.total_field))
        if n_records == 0 or n_records < c.page_size or (total is not None and offset >= total):
            return None
        return PageRequest(request.index + 1, request.url, {**request.params, c.offset_param: offset})

    def plan(self, request: PageRequest, body: Any, n_records: int) -> list[PageRequest] | None:
        c = self.config
        total = _as_int(_dig(body, c.total_field))
        if total is None or n_records < c.page_size:
            return None
        start = int(request.params[c.offset_param]) + c.page_size
        return [
            PageRequest(request.index + i + 1, request.url, {**request.params, c.offset_param: off})
            for i, off in enumerate(range(start, total, c.page_size))
        ]


class NextLink(Paginator):
    """Follows the link in `next_field`. With `total_field` and `page_param` set (the body's record
    count, and the query parameter that addresses a page in the link: RAWG's `count` and `page`),
    the remaining links are known after the first page and can be fetched in parallel."""

    kind = "next_link"

    def __init__(self, config: NextLinkPaginator):
        self.config = config

    def total(self, body: Any) -> int | None:
        return _as_int(_dig(body, self.config.total_field))

    def after(self, request: PageRequest, body: Any, n_records: int) -> PageRequest | None:
        link = _dig(body, self.config.next_field)
        if not link or n_records == 0:
            return None
        # The link already carries every query parameter, so none are added again.
        return PageRequest(request.index + 1, str(link), {})

    def plan(self, request: PageRequest, body: Any, n_records: int) -> list[PageRequest] | None:
        c = self.config
        link = _dig(body, c.next_field)
        total = self.total(body)
        if c.page_param is None or not link or not total or n_records == 0:
            return None
        parts = urlsplit(str(link))
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        next_page = _as_int(query.get(c.page_param))
        if next_page is None:
            return None
        page_size = (_as_int(query.get(c.size_param)) if c.size_param else None) or n_records
        last_page = math.ceil(total / page_size)
        return [
            PageRequest(
                request.index + i + 1,
                urlunsplit(
                    (
                        parts.scheme,
                        parts.netloc,
                        parts.path,
                        urlencode({**query, c.page_param: page}),
                        parts.fragment,
                    )
                ),
                {},
            )
            for i, page in enumerate(range(next_page, last_page + 1))
        ]


# The registry of paginator kinds: the config's `paginator.kind` -> the class built from its settings.
PAGINATORS: dict[str, Callable[[Any], Paginator]] = {
    PageNumber.kind: PageNumber,
    NextLink.kind: NextLink,
    Offset.kind: Offset,
    SinglePage.kind: lambda _config: SinglePage(),
}


def make_paginator(config: Any) -> Paginator:
    kind = getattr(config, "kind", config)
    build = PAGINATORS.get(kind) if isinstance(kind, str) else None
    if build is None:
        raise ValueError(f"unknown paginator {kind!r}; known paginators: {', '.join(KNOWN_PAGINATORS)}")
    return build(config)
