"""Replay server: the four public APIs, served locally from recorded real payloads.

One stdlib `ThreadingHTTPServer` (HTTP/1.1, keep-alive) on 127.0.0.1, one mount per source
(`gmp_dev.local.stack.REPLAY_MOUNTS`):

- `/rawg/api`: /games (+ `updated=<from>,<to>` on the game's `updated` date), /games/{id|slug},
  /genres /platforms /stores /tags /developers /publishers /creators (+ /{id}),
  /platforms/lists/parents, /creator-roles. `page`/`page_size` (default 20, max 40), envelope
  `{count,next,previous,results}`; `next`/`previous` are absolute URLs on this server echoing every
  query parameter, `key=` included, exactly as RAWG does (the ingestion must redact them). `key`
  is required: 401 without it or with a wrong one.
- `/tcgdex/v2/en`: /cards, /cards/{id} (percent-decoded), /sets, /sets/{id}, /series,
  /series/{id}. Bare JSON arrays; opt-in `pagination:page` + `pagination:itemsPerPage` (no params:
  everything). Card details carry a SYNTHETIC `pricing` block (see synthetic.py).
- `/pokemontcg/v2`: /cards, /cards/{id}, /sets, /sets/{id}, /types /subtypes /supertypes /rarities.
  `page`/`pageSize` (default and max 250), envelope `{data,page,pageSize,count,totalCount}`;
  `X-Api-Key` optional.
- `/pokeapi/api/v2`: /pokemon, /pokemon/{name|id}[/], /generation, /generation/{name|id}[/].
  `offset`/`limit` (default 20); absolute `next`/`previous` and result `url`s (the live API's
  shape, not the static api-data copy's host-relative URLs).

Control: `POST /_replay/faults`, `GET /_replay/stats`, `POST /_replay/reset`, `GET /_replay/corpus`
(see `faults.py`), `POST /_replay/quota {"limit": N, "reset_seconds": S}` (a call budget per mount
with `X-RateLimit-*`/`RateLimit-*` headers and 429 + `Retry-After` past it; `{}` removes it).
`/rawg/api/games/{id}` answers for every listed game: the recorded detail, else one derived from
the list item (synthetic.rawg_game_detail). Responses containing anything not recorded carry `X-Replay-Synthetic: 1`
(and `X-Replay-Synthetic-Fields` when only some fields are synthetic).

    python -m gmp_dev.replay.server --port 8765 --rawg-key local-key
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode, urlsplit

from gmp_dev.local.stack import LOOPBACK, REPLAY_MOUNTS
from gmp_dev.replay import faults as fault_bodies
from gmp_dev.replay.corpus import (
    DEFAULT_POKEAPI_POKEMON,
    DEFAULT_TCGDEX_CARDS,
    Corpus,
    build_corpus,
    resource_id,
)
from gmp_dev.replay.faults import Fault, FaultRegistry
from gmp_dev.replay.synthetic import (
    SYNTHETIC_ID_OFFSET,
    SyntheticGames,
    minimal_generation,
    minimal_pokemon,
    minimal_tcgdex_card,
    rawg_game_detail,
    tcgdex_pricing,
)

DEFAULT_RAWG_KEY = "local-replay-key-not-a-secret"
RAWG_DEFAULT_PAGE_SIZE = 20
RAWG_MAX_PAGE_SIZE = 40
TCGDEX_DEFAULT_ITEMS_PER_PAGE = 100
POKEMONTCG_MAX_PAGE_SIZE = 250
POKEAPI_DEFAULT_LIMIT = 20
JSON = "application/json"


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    synthetic: str | None = None  # None, "record" (the whole thing) or the synthetic fields

    @classmethod
    def json(cls, value: Any, status: int = 200, **kwargs: Any) -> Response:
        return cls(status=status, body=_dumps(value), **kwargs)


@dataclass
class Request:
    method: str
    path: str  # raw (still percent-encoded), no query
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes
    base: str  # http://host:port as the client addressed us

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)


@dataclass
class Quota:
    """A call budget per API mount, announced in headers the way real APIs do, enforced with 429.

    Every API response carries `X-RateLimit-Limit`/`X-RateLimit-Remaining` and the IETF draft's
    `RateLimit-Limit`/`RateLimit-Remaining`/`RateLimit-Reset`; once `limit` requests were served in
    the window, requests get 429 with `Retry-After: <reset_seconds>` until the window resets."""

    limit: int
    reset_seconds: float = 60.0
    used: dict[str, int] = field(default_factory=dict)
    window_started: float = field(default_factory=time.monotonic)

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Quota:
        limit = int(spec["limit"])
        if limit < 0:
            raise ValueError("quota limit must be >= 0")
        return cls(limit, float(spec.get("reset_seconds", 60.0)))

    def take(self, mount: str) -> tuple[bool, dict[str, str]]:
        """(allowed, headers) for one request to `mount`."""
        now = time.monotonic()
        if now - self.window_started >= self.reset_seconds:
            self.used.clear()
            self.window_started = now
        used = self.used.get(mount, 0)
        allowed = used < self.limit
        if allowed:
            used += 1
            self.used[mount] = used
        remaining = max(0, self.limit - used)
        reset = max(0, round(self.reset_seconds - (now - self.window_started)))
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset),
        }
        if not allowed:
            headers["Retry-After"] = str(max(1, reset))
        return allowed, headers


class _BadRequest(Exception):
    def __init__(self, response: Response):
        self.response = response


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)  # type: ignore[arg-type]
    except ValueError:
        return default


class ReplayApp:
    """Routing and response building; no sockets (the handler below does HTTP)."""

    def __init__(
        self,
        *,
        rawg_key: str = DEFAULT_RAWG_KEY,
        latency_ms: float = 0.0,
        synthetic_games: int | None = None,
        tcgdex_cards: int = DEFAULT_TCGDEX_CARDS,
        pokeapi_pokemon: int = DEFAULT_POKEAPI_POKEMON,
        seed: int = 0,
        as_of: date | None = None,
    ):
        self.rawg_key = rawg_key
        self.latency_ms = latency_ms
        self._initial_latency_ms = latency_ms
        self.seed = seed
        self.as_of = as_of
        self.corpus: Corpus = build_corpus(tcgdex_cards, pokeapi_pokemon)
        self.synthetic_games = (
            SyntheticGames(synthetic_games, seed=seed) if synthetic_games is not None else None
        )
        self.faults = FaultRegistry()
        self.quota: Quota | None = None
        self._quota_lock = threading.Lock()
        c = self.corpus
        self._rawg_games_envelope_extras = _dumps(c.rawg.games_envelope_extras)[1:-1]
        self._tcgdex_cards_by_id = {card["id"]: card for card in c.tcgdex.cards}
        self._tcgdex_sets_by_id = {s["id"]: s for s in c.tcgdex.sets}
        self._tcgdex_series_by_id = {s["id"]: s for s in c.tcgdex.series}
        self._ptcg_cards = c.pokemontcg.cards_by_id
        self._ptcg_sets = c.pokemontcg.sets_by_id
        self._pokemon_items = {resource_id(p["url"]): p for p in c.pokeapi.pokemon}
        self._pokemon_by_name = {p["name"]: i for i, p in self._pokemon_items.items()}
        self._generation_items = {resource_id(g["url"]): g for g in c.pokeapi.generations}
        self._generation_by_name = {g["name"]: i for i, g in self._generation_items.items()}
        # Serialized once; host-relative PokeAPI URLs are made absolute per request.
        self._pokemon_detail_json = {i: _dumps(d).decode() for i, d in c.pokeapi.pokemon_details.items()}
        self._generation_detail_json = {
            i: _dumps(d).decode() for i, d in c.pokeapi.generation_details.items()
        }

    # -- entry point --
    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_replay/"):
            return self._control(request)
        self.faults.count_request(request.path)
        fault = self.faults.take(request.path)
        if fault is not None and fault.kind in {"429", "500", "401"}:
            return self._fault_response(fault, request)
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.delay)
        quota_headers: dict[str, str] = {}
        if self.quota is not None:
            mount = next((m for m in REPLAY_MOUNTS.values() if request.path.startswith(m)), request.path)
            with self._quota_lock:
                allowed, quota_headers = self.quota.take(mount)
            if not allowed:
                return Response.json(
                    {"error": "Too Many Requests", "detail": "Quota exhausted."}, 429, headers=quota_headers
                )
        try:
            response = self._route(request)
        except _BadRequest as exc:
            response = exc.response
        response.headers.update(quota_headers)
        if fault is not None and response.status == 200 and response.content_type == JSON:
            if fault.kind == "malformed":
                response.body = fault_bodies.malformed(response.body)
            elif fault.kind == "wrong_type":
                response.body = fault_bodies.wrong_type(response.body)
            elif fault.kind == "unknown_field":
                response.body = fault_bodies.unknown_field(
                    response.body, fault.field or fault_bodies.DEFAULT_UNKNOWN_FIELD
                )
            elif fault.kind in fault_bodies.HOSTILE_TEXT:
                response.body = fault_bodies.hostile_text(response.body, fault.kind, fault.field)
            elif fault.kind == "echo_key":
                key = request.params.get("key") or request.headers.get("x-api-key") or ""
                response.body = fault_bodies.echo_key(response.body, key, fault.field)
            elif fault.kind in ("next_loop", "next_same_page", "short_read"):
                response.body = fault_bodies.relink(
                    response.body, fault.kind, f"{request.base}{request.path}", request.query
                )
        return response

    def _fault_response(self, fault: Fault, request: Request) -> Response:
        if fault.kind == "429":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            return Response.json(
                {"error": "Too Many Requests", "detail": "Request was throttled."}, 429, headers=headers
            )
        if fault.kind == "401":
            return Response.json({"error": "The key parameter is not provided"}, 401)
        return Response.json(
            {
                "type": "https://tcgdex.dev/errors/general",
                "title": "An unknown error occured, please contact a developper with this message",
                "status": 500,
                "endpoint": request.path,
                "method": request.method,
            },
            500,
        )

    def _route(self, request: Request) -> Response:
        if request.method != "GET":
            return Response.json({"error": f"method {request.method} not allowed"}, 405)
        for source, mount in REPLAY_MOUNTS.items():
            if request.path == mount or request.path.startswith(mount + "/"):
                rest = request.path[len(mount) :]
                segments = [unquote(s) for s in rest.strip("/").split("/") if s]
                return getattr(self, f"_{source}")(request, segments)
        return Response.json({"error": "no API is mounted here", "mounts": REPLAY_MOUNTS}, 404)

    # -- control endpoints --
    def _control(self, request: Request) -> Response:
        action = request.path[len("/_replay/") :].strip("/")
        if action == "stats" and request.method == "GET":
            return Response.json(self.faults.stats())
        if action == "corpus" and request.method == "GET":
            return Response.json(
                {
                    "counts": self.corpus.counts(),
                    "synthetic_games": None if self.synthetic_games is None else len(self.synthetic_games),
                }
            )
        if action == "quota" and request.method == "POST":
            try:
                spec = json.loads(request.body or b"{}")
                self.quota = Quota.from_json(spec) if spec else None
            except (ValueError, TypeError, KeyError) as exc:
                return Response.json({"error": str(exc)}, 400)
            return Response.json({"quota": None if self.quota is None else self.quota.limit})
        if action == "reset" and request.method == "POST":
            self.quota = None
            self.faults.reset()
            self.latency_ms = self._initial_latency_ms
            return Response.json({"reset": True})
        if action == "faults" and request.method == "POST":
            try:
                spec = json.loads(request.body or b"{}")
                specs = spec if isinstance(spec, list) else [spec]
                for item in specs:
                    self.faults.add(Fault.from_json(item))
            except (ValueError, TypeError, re.error) as exc:
                return Response.json({"error": str(exc)}, 400)
            return Response.json({"armed": len(specs)}, 201)
        if action == "faults" and request.method == "GET":
            return Response.json(self.faults.stats()["faults_armed"])
        if action == "config" and request.method == "POST":
            try:
                spec = json.loads(request.body or b"{}")
                self.latency_ms = float(spec.get("latency_ms", self.latency_ms))
            except (ValueError, TypeError, AttributeError) as exc:
                return Response.json({"error": str(exc)}, 400)
            return Response.json({"latency_ms": self.latency_ms})
        return Response.json({"error": f"unknown control endpoint {request.method} {request.path}"}, 404)

    # ------------------------------------------------------------------------------------------
    # RAWG
    # ------------------------------------------------------------------------------------------
    def _rawg(self, request: Request, segments: list[str]) -> Response:
        key = request.params.get("key")
        if not key:
            return Response.json({"error": "The key parameter is not provided"}, 401)
        if key != self.rawg_key:
            return Response.json({"error": "Invalid API key. Get one at https://rawg.io/apidocs"}, 401)
        route = "/".join(segments)
        if route == "games":
            return self._rawg_games(request)
        if len(segments) == 2 and segments[0] == "games":
            return self._rawg_game_detail(segments[1])
        lists = self.corpus.rawg.lists
        if route in lists:
            items = lists[route]
            return self._rawg_page(request, len(items), lambda a, b: _dumps(items[a:b]))
        if len(segments) == 2 and segments[0] in self.corpus.rawg.details:
            return self._rawg_detail(self.corpus.rawg.details[segments[0]], segments[1])
        return Response.json({"detail": "Not found."}, 404)

    def _rawg_game_detail(self, id_or_slug: str) -> Response:
        """The recorded detail, else one derived from the listed game (synthetic.rawg_game_detail): every
        game the server lists has a detail, and it follows the list item's current content."""
        recorded = self._rawg_detail(self.corpus.rawg.game_details, id_or_slug)
        if recorded.status == 200:
            return recorded
        item = next(
            (g for g in self.corpus.rawg.games if str(g["id"]) == id_or_slug or g.get("slug") == id_or_slug),
            None,
        )
        if item is None and self.synthetic_games is not None and id_or_slug.isdigit():
            index = int(id_or_slug) - SYNTHETIC_ID_OFFSET
            if 0 <= index < len(self.synthetic_games):
                item = self.synthetic_games.game(index)
        if item is None:
            return recorded
        lists = self.corpus.rawg.lists
        detail = rawg_game_detail(item, lists.get("developers", []), lists.get("publishers", []))
        return Response.json(detail, synthetic="record")

    def _rawg_detail(self, details: dict[int, dict[str, Any]], id_or_slug: str) -> Response:
        for detail in details.values():
            if str(detail["id"]) == id_or_slug or detail.get("slug") == id_or_slug:
                return Response.json(detail)
        return Response.json({"detail": "Not found."}, 404)

    def _rawg_updated_window(self, request: Request) -> tuple[datetime | None, datetime | None] | None:
        raw = request.params.get("updated")
        if not raw:
            return None
        try:
            start_text, end_text = raw.split(",", 1)
            start = datetime.fromisoformat(start_text.strip()[:10])
            end = datetime.fromisoformat(end_text.strip()[:10]) + timedelta(days=1)
        except ValueError:
            raise _BadRequest(
                Response.json({"updated": ["Enter a valid date range: updated=YYYY-MM-DD,YYYY-MM-DD."]}, 400)
            ) from None
        return start, end

    def _rawg_games(self, request: Request) -> Response:
        window = self._rawg_updated_window(request)
        extras = b"" if window else self._rawg_games_envelope_extras
        if self.synthetic_games is not None:
            games = self.synthetic_games
            span = games.index_range(*window) if window else range(len(games))
            response = self._rawg_page(
                request,
                len(span),
                lambda a, b: games.results_bytes(span.start + a, span.start + min(b, len(span))),
                extras,
            )
            response.synthetic = "record"
            return response
        items = self.corpus.rawg.games
        if window:
            low, high = window[0].isoformat()[:10], (window[1] - timedelta(days=1)).isoformat()[:10]
            items = [g for g in items if low <= (g.get("updated") or "")[:10] <= high]
        return self._rawg_page(request, len(items), lambda a, b: _dumps(items[a:b]), extras)

    def _rawg_page(
        self, request: Request, count: int, results: Callable[[int, int], bytes], extras: bytes = b""
    ) -> Response:
        """One page of a RAWG list; `results(start, stop)` serializes the items [start, stop)."""
        params = request.params
        raw_page = params.get("page") or "1"
        page_size = _int_param(params, "page_size", RAWG_DEFAULT_PAGE_SIZE)
        page_size = min(max(page_size, 1), RAWG_MAX_PAGE_SIZE)
        last_page = max(1, -(-count // page_size))
        if not raw_page.isdigit() or not 1 <= int(raw_page) <= last_page:
            return Response.json({"detail": "Invalid page."}, 404)
        page = int(raw_page)
        start = (page - 1) * page_size
        stop = min(start + page_size, count)
        url = f"{request.base}{request.path}"
        next_url = _json_str(_with_page(url, request.query, "page", page + 1)) if stop < count else "null"
        if page == 1:
            previous_url = "null"
        elif page == 2:
            previous_url = _json_str(_with_page(url, request.query, "page", None))  # DRF drops page=1
        else:
            previous_url = _json_str(_with_page(url, request.query, "page", page - 1))
        head = f'{{"count":{count},"next":{next_url},"previous":{previous_url},"results":'.encode()
        return Response(body=b"".join((head, results(start, stop), b"," if extras else b"", extras, b"}")))

    # ------------------------------------------------------------------------------------------
    # TCGdex
    # ------------------------------------------------------------------------------------------
    def _tcgdex(self, request: Request, segments: list[str]) -> Response:
        c = self.corpus.tcgdex
        if segments == ["cards"]:
            return self._tcgdex_list(request, c.cards)
        if segments == ["sets"]:
            return self._tcgdex_list(request, c.sets)
        if segments == ["series"]:
            return self._tcgdex_list(request, c.series)
        if len(segments) == 2 and segments[0] == "cards" and segments[1] in self._tcgdex_cards_by_id:
            return self._tcgdex_card(segments[1])
        if len(segments) == 2 and segments[0] == "sets" and segments[1] in self._tcgdex_sets_by_id:
            return self._tcgdex_set(segments[1])
        if len(segments) == 2 and segments[0] == "series" and segments[1] in self._tcgdex_series_by_id:
            detail = c.serie_details.get(segments[1])
            if detail is not None:
                return Response.json(detail)
            return Response.json(self._tcgdex_series_by_id[segments[1]], synthetic="record")
        return Response.json(
            {
                "type": "https://tcgdex.dev/errors/not-found",
                "title": "The resource you are trying to reach does not exists",
                "status": 404,
                "endpoint": "/v2/en/" + "/".join(segments),
                "method": request.method,
            },
            404,
            content_type="application/problem+json",
        )

    def _tcgdex_list(self, request: Request, items: list[dict[str, Any]]) -> Response:
        params = request.params
        if "pagination:page" not in params and "pagination:itemsPerPage" not in params:
            return Response.json(items)
        page = max(_int_param(params, "pagination:page", 1), 1)
        per_page = max(_int_param(params, "pagination:itemsPerPage", TCGDEX_DEFAULT_ITEMS_PER_PAGE), 1)
        start = (page - 1) * per_page
        return Response.json(items[start : start + per_page])

    def _pricing_day(self) -> date:
        return self.as_of or datetime.now(UTC).date()

    def _tcgdex_card(self, card_id: str) -> Response:
        c = self.corpus.tcgdex
        recorded = c.card_details.get(card_id)
        if recorded is not None:
            card = dict(recorded)
            synthetic = "pricing"
        else:
            brief = self._tcgdex_cards_by_id[card_id]
            set_id = c.card_set_id(brief)
            set_info = None
            set_detail = c.set_details.get(set_id)
            set_brief = self._tcgdex_sets_by_id.get(set_id)
            if set_detail is not None:
                set_info = {k: set_detail[k] for k in ("id", "name", "logo", "symbol") if k in set_detail}
                set_info["cardCount"] = {k: set_detail["cardCount"][k] for k in ("official", "total")}
            elif set_brief is not None:
                set_info = dict(set_brief)
            card = minimal_tcgdex_card(brief, set_info)
            synthetic = "record,pricing"
        # SYNTHETIC prices: no attributable real payload with TCGdex pricing exists (see synthetic.py).
        card["pricing"] = tcgdex_pricing(card, self._pricing_day())
        # Prices change daily: like TCGdex's no-store responses, never cache them.
        return Response.json(
            card, synthetic=synthetic, headers={"Cache-Control": "no-cache, no-store, must-revalidate"}
        )

    def _tcgdex_set(self, set_id: str) -> Response:
        c = self.corpus.tcgdex
        if set_id in c.set_details:
            return Response.json(c.set_details[set_id])
        detail = dict(self._tcgdex_sets_by_id[set_id])
        if set_id in c.serie_of_set:
            detail["serie"] = c.serie_of_set[set_id]
        # Membership is real: the recorded full card list, cards whose id is `<set id>-<localId>`.
        detail["cards"] = [card for card in c.all_cards if card["id"] == f"{set_id}-{card['localId']}"]
        return Response.json(detail, synthetic="record")

    # ------------------------------------------------------------------------------------------
    # pokemontcg.io
    # ------------------------------------------------------------------------------------------
    def _pokemontcg(self, request: Request, segments: list[str]) -> Response:
        c = self.corpus.pokemontcg
        if segments in (["cards"], ["sets"]):
            items = c.cards if segments[0] == "cards" else c.sets
            params = request.params
            page = max(_int_param(params, "page", 1), 1)
            page_size = min(
                max(_int_param(params, "pageSize", POKEMONTCG_MAX_PAGE_SIZE), 1), POKEMONTCG_MAX_PAGE_SIZE
            )
            data = items[(page - 1) * page_size : page * page_size]
            return Response.json(
                {
                    "data": data,
                    "page": page,
                    "pageSize": page_size,
                    "count": len(data),
                    "totalCount": len(items),
                }
            )
        if len(segments) == 2 and segments[0] in ("cards", "sets"):
            found = (self._ptcg_cards if segments[0] == "cards" else self._ptcg_sets).get(segments[1])
            if found is not None:
                return Response.json({"data": found})
        if len(segments) == 1 and segments[0] in ("types", "subtypes", "supertypes", "rarities"):
            from gmp_dev.replay.corpus import load_recording

            return Response.json(load_recording("pokemontcg", f"{segments[0]}__1.json"))
        return Response.json({"error": {"message": "Not Found", "code": 404}}, 404)

    # ------------------------------------------------------------------------------------------
    # PokeAPI
    # ------------------------------------------------------------------------------------------
    def _pokeapi(self, request: Request, segments: list[str]) -> Response:
        absolute = f"{request.base}{REPLAY_MOUNTS['pokeapi']}"
        if segments in (["pokemon"], ["generation"]):
            pokeapi = self.corpus.pokeapi
            items = pokeapi.pokemon if segments[0] == "pokemon" else pokeapi.generations
            return self._pokeapi_list(request, segments[0], items, absolute)
        if len(segments) == 2 and segments[0] == "pokemon":
            pokemon_id = self._lookup(segments[1], self._pokemon_items, self._pokemon_by_name)
            if pokemon_id is not None:
                if pokemon_id in self._pokemon_detail_json:
                    return self._absolute_json(self._pokemon_detail_json[pokemon_id], absolute)
                return Response.json(
                    minimal_pokemon(self._pokemon_items[pokemon_id], pokemon_id, absolute), synthetic="record"
                )
        if len(segments) == 2 and segments[0] == "generation":
            generation_id = self._lookup(segments[1], self._generation_items, self._generation_by_name)
            if generation_id is not None:
                if generation_id in self._generation_detail_json:
                    return self._absolute_json(self._generation_detail_json[generation_id], absolute)
                return Response.json(
                    minimal_generation(self._generation_items[generation_id], generation_id),
                    synthetic="record",
                )
        return Response(status=404, body=b"Not Found", content_type="text/plain; charset=utf-8")

    @staticmethod
    def _lookup(name_or_id: str, by_id: dict[int, Any], by_name: dict[str, int]) -> int | None:
        if name_or_id.isdigit():
            return int(name_or_id) if int(name_or_id) in by_id else None
        return by_name.get(name_or_id.lower())

    @staticmethod
    def _absolute_json(text: str, absolute: str) -> Response:
        return Response(body=text.replace('"/api/v2/', f'"{absolute}/').encode())

    def _pokeapi_list(
        self, request: Request, resource: str, items: list[dict[str, Any]], absolute: str
    ) -> Response:
        params = request.params
        offset = max(_int_param(params, "offset", 0), 0)
        limit = max(_int_param(params, "limit", POKEAPI_DEFAULT_LIMIT), 0)
        page = items[offset : offset + limit]
        url = f"{absolute}/{resource}"

        def link(new_offset: int) -> str:
            return f"{url}?offset={new_offset}&limit={limit}"

        next_url = link(offset + limit) if limit and offset + limit < len(items) else None
        previous_url = link(max(offset - limit, 0)) if offset > 0 and limit else None
        results = [{"name": item["name"], "url": absolute + item["url"][len("/api/v2") :]} for item in page]
        return Response.json(
            {"count": len(items), "next": next_url, "previous": previous_url, "results": results}
        )


def _json_str(value: str) -> str:
    return json.dumps(value)


def _with_page(url: str, query: list[tuple[str, str]], name: str, value: int | None) -> str:
    """Django REST framework's replace/remove_query_param: every parameter echoed, sorted."""
    params = parse_qs(urlencode(query), keep_blank_values=True)
    if value is None:
        params.pop(name, None)
    else:
        params[name] = [str(value)]
    encoded = urlencode(sorted(params.items()), doseq=True)
    return f"{url}?{encoded}" if encoded else url


# --- HTTP ---------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gmp-replay/1.0"
    # Headers and body go out in one write, and without Nagle: otherwise every keep-alive
    # response waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
        request = Request(
            self.command,
            split.path,
            parse_qsl(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            f"http://{host}",
        )
        app = self.server.app
        try:
            response = app.handle(request)
        except Exception as exc:  # noqa: BLE001 - a bug must answer 500, not kill the connection
            response = Response.json({"error": f"replay server error: {exc!r}"}, 500)
        if app.latency_ms and not request.path.startswith("/_replay/"):
            time.sleep(app.latency_ms / 1000)
        if not request.path.startswith("/_replay/"):
            app.faults.count_status(response.status)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.synthetic:
            self.send_header("X-Replay-Synthetic", "1")
            self.send_header("X-Replay-Synthetic-Fields", response.synthetic)
        self._headers_buffer.append(b"\r\n")  # end_headers(), but the body joins the same write
        self._headers_buffer.append(response.body)
        self.flush_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.verbose:
            super().log_message(format, *args)

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout during a `timeout` fault)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: ReplayApp, verbose: bool = False):
        self.app = app
        self.verbose = verbose
        super().__init__(address, _Handler)


class ReplayServer:
    """The replay server in a background thread of this process (tests, benchmarks).

    >>> with ReplayServer(rawg_key="k") as server:
    ...     requests.get(server.base_url("rawg") + "/games", params={"key": "k"}).json()["count"]
    """

    def __init__(self, *, host: str = LOOPBACK, port: int = 0, verbose: bool = False, **app_settings: Any):
        """`app_settings`: ReplayApp's keyword arguments (rawg_key, latency_ms, synthetic_games, ...)."""
        self.app = ReplayApp(**app_settings)
        self._host = host
        self._port = port
        self._verbose = verbose
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def rawg_key(self) -> str:
        return self.app.rawg_key

    def start(self) -> ReplayServer:
        if self._httpd is None:
            self._httpd = _Server((self._host, self._port), self.app, self._verbose)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, name="replay-server", daemon=True
            )
            self._thread.start()
        return self

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the replay server is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def base_url(self, source: str) -> str:
        return self.url + REPLAY_MOUNTS[source]

    def add_fault(
        self,
        path: str,
        kind: str,
        times: int = 1,
        retry_after: float | None = None,
        delay: float | None = None,
        field: str | None = None,
    ) -> None:
        spec = {
            "path": path,
            "kind": kind,
            "times": times,
            "retry_after": retry_after,
            "delay": delay,
            "field": field,
        }
        self.app.faults.add(Fault.from_json(spec))

    def stats(self) -> dict[str, Any]:
        return self.app.faults.stats()

    def set_quota(self, limit: int | None, reset_seconds: float = 60.0) -> None:
        """Serve at most `limit` API requests per mount per `reset_seconds` (None: no quota), with headers."""
        self.app.quota = None if limit is None else Quota(limit, reset_seconds)

    def reset(self) -> None:
        self.app.quota = None
        self.app.faults.reset()
        self.app.latency_ms = self.app._initial_latency_ms

    def set_latency(self, latency_ms: float) -> None:
        self.app.latency_ms = latency_ms

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def connection_urls(url: str) -> dict[str, str]:
    """Base URL per source for a server at `url`."""
    return {source: url + mount for source, mount in REPLAY_MOUNTS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default=LOOPBACK, help="address to bind (default 127.0.0.1: never public)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one, printed at start)")
    parser.add_argument("--rawg-key", default=DEFAULT_RAWG_KEY, help="the `key` RAWG clients must send")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every API response")
    parser.add_argument(
        "--synthetic-games",
        type=int,
        default=None,
        metavar="N",
        help="serve N synthetic RAWG-shaped games at /rawg/api/games instead of the recorded ones",
    )
    parser.add_argument(
        "--tcgdex-cards",
        type=int,
        default=DEFAULT_TCGDEX_CARDS,
        metavar="N",
        help=f"size of the TCGdex /cards list (default {DEFAULT_TCGDEX_CARDS}; recorded "
        "details always included)",
    )
    parser.add_argument(
        "--pokeapi-pokemon",
        type=int,
        default=DEFAULT_POKEAPI_POKEMON,
        metavar="N",
        help=f"size of the PokeAPI /pokemon list (default {DEFAULT_POKEAPI_POKEMON}; "
        "recorded details always included)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic games")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        metavar="YYYY-MM-DD",
        help="day of the synthetic TCGdex prices (default: the UTC date of each request)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    app = ReplayApp(
        rawg_key=args.rawg_key,
        latency_ms=args.latency_ms,
        synthetic_games=args.synthetic_games,
        tcgdex_cards=args.tcgdex_cards,
        pokeapi_pokemon=args.pokeapi_pokemon,
        seed=args.seed,
        as_of=args.as_of,
    )
    httpd = _Server((args.host, args.port), app, args.verbose)
    port = httpd.server_address[1]
    print(
        f"replay server on http://{args.host}:{port} "
        f"({', '.join(f'{s}={m}' for s, m in REPLAY_MOUNTS.items())})",
        flush=True,
    )
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
