"""The replay server over real HTTP: per-API pagination, auth, details, faults, latency, stats,
synthetic games (determinism, laziness)."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from game_market_pipeline.records import pokeapi, pokemontcg, rawg, tcgdex
from gmp_dev.replay.corpus import build_corpus, resource_id
from gmp_dev.replay.server import ReplayServer, main
from gmp_dev.replay.synthetic import SyntheticGames, tcgdex_pricing
from tests.fixtures_replay import REPLAY_RAWG_KEY, start_replay_server

KEY = REPLAY_RAWG_KEY
AS_OF = date(2026, 3, 1)


@pytest.fixture(scope="module")
def server() -> Iterator[ReplayServer]:
    # 60 listed Pokémon, so the minimal-detail path (not in the default corpus) is exercised too.
    replay = start_replay_server(as_of=AS_OF, pokeapi_pokemon=60)
    yield replay
    replay.stop()


@pytest.fixture
def srv(server: ReplayServer) -> Iterator[ReplayServer]:
    server.reset()
    yield server
    server.reset()


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def walk_next(http: requests.Session, url: str, params: dict | None = None) -> tuple[list[dict], list[dict]]:
    """Follow `next` links; returns (pages, items)."""
    pages, items = [], []
    response = http.get(url, params=params, timeout=10)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        items.extend(page["results"])
        if not page["next"]:
            return pages, items
        response = http.get(page["next"], timeout=10)


# --- RAWG -------------------------------------------------------------------------------------


def test_rawg_games_pagination_reaches_every_item_once(srv: ReplayServer, http: requests.Session) -> None:
    expected = [g["id"] for g in build_corpus().rawg.games]
    pages, items = walk_next(http, srv.base_url("rawg") + "/games", {"key": KEY, "page_size": 7})
    assert [g["id"] for g in items] == expected
    assert len(pages) == -(-len(expected) // 7)
    assert all(p["count"] == len(expected) for p in pages)
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    for page in pages[:-1]:
        link = urlsplit(page["next"])
        assert f"{link.scheme}://{link.netloc}" == srv.url and link.path == "/rawg/api/games"
        # RAWG echoes every query parameter, the key included (the ingestion must redact it).
        assert parse_qs(link.query)["key"] == [KEY]
        assert parse_qs(link.query)["page_size"] == ["7"]
    # Like DRF: page 2's `previous` drops `page`, later ones carry page-1.
    assert "page=" not in pages[1]["previous"] and "page=2" in pages[2]["previous"]
    for item in items:
        assert rawg.Game.model_validate(item).unknown_fields() == set()
    # The unfiltered /games envelope carries RAWG's extra keys.
    assert {"seo_title", "filters", "description"} <= set(pages[0])


def test_rawg_default_and_max_page_size(srv: ReplayServer, http: requests.Session) -> None:
    url = srv.base_url("rawg") + "/games"
    assert len(http.get(url, params={"key": KEY}).json()["results"]) == 20
    assert len(http.get(url, params={"key": KEY, "page_size": 500}).json()["results"]) == 40


@pytest.mark.parametrize("resource", ["genres", "platforms", "stores", "tags", "developers", "publishers"])
def test_rawg_sub_resources_paginate(srv: ReplayServer, http: requests.Session, resource: str) -> None:
    expected = [item["id"] for item in build_corpus().rawg.lists[resource]]
    _, items = walk_next(http, f"{srv.base_url('rawg')}/{resource}", {"key": KEY, "page_size": 3})
    assert [item["id"] for item in items] == expected
    model = {
        "genres": rawg.Genre,
        "platforms": rawg.Platform,
        "stores": rawg.Store,
        "tags": rawg.Tag,
        "developers": rawg.Developer,
        "publishers": rawg.Publisher,
    }[resource]
    assert all(model.model_validate(item) for item in items)


def test_rawg_requires_the_key(srv: ReplayServer, http: requests.Session) -> None:
    missing = http.get(srv.base_url("rawg") + "/games")
    assert missing.status_code == 401 and missing.json() == {"error": "The key parameter is not provided"}
    wrong = http.get(srv.base_url("rawg") + "/genres", params={"key": "nope"})
    assert wrong.status_code == 401 and "error" in wrong.json()


def test_rawg_invalid_page_is_404(srv: ReplayServer, http: requests.Session) -> None:
    response = http.get(srv.base_url("rawg") + "/games", params={"key": KEY, "page": 999})
    assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}


def test_rawg_updated_filter(srv: ReplayServer, http: requests.Session) -> None:
    games = build_corpus().rawg.games
    expected = [g["id"] for g in games if "2024-01-01" <= g["updated"][:10] <= "2025-06-30"]
    assert 0 < len(expected) < len(games)
    pages, items = walk_next(
        http,
        srv.base_url("rawg") + "/games",
        {"key": KEY, "updated": "2024-01-01,2025-06-30", "page_size": 4},
    )
    assert [g["id"] for g in items] == expected
    assert pages[0]["count"] == len(expected) and "seo_title" not in pages[0]
    if len(pages) > 1:
        assert parse_qs(urlsplit(pages[0]["next"]).query)["updated"] == ["2024-01-01,2025-06-30"]
    bad = http.get(srv.base_url("rawg") + "/games", params={"key": KEY, "updated": "yesterday"})
    assert bad.status_code == 400


def test_rawg_game_detail(srv: ReplayServer, http: requests.Session) -> None:
    detail = http.get(srv.base_url("rawg") + "/games/3498", params={"key": KEY}).json()
    assert detail["name"] == "Grand Theft Auto V" and "developers" in detail
    assert http.get(srv.base_url("rawg") + "/games/424242", params={"key": KEY}).status_code == 404


def test_every_listed_game_has_a_detail_in_the_recorded_details_shape(
    srv: ReplayServer, http: requests.Session
) -> None:
    _, games = walk_next(http, srv.base_url("rawg") + "/games", {"key": KEY, "page_size": 40})
    recorded = srv.app.corpus.rawg.game_details
    developers = {d["id"] for d in srv.app.corpus.rawg.lists["developers"]}
    for game in games:
        response = http.get(srv.base_url("rawg") + f"/games/{game['id']}", params={"key": KEY})
        assert response.status_code == 200
        detail = response.json()
        assert detail["id"] == game["id"]
        # Validates as the detail it stands for; credits are never empty.
        rawg.Game.model_validate(detail)
        assert detail["developers"] and detail["publishers"]
        if game["id"] not in recorded:
            assert response.headers["X-Replay-Synthetic"] == "1"
            assert (
                detail["updated"] == game["updated"] and detail["added"] == game["added"]
            )  # follows the list
            assert {d["id"] for d in detail["developers"]} <= developers
            assert set(recorded[3498]) - {"short_screenshots"} <= set(detail)  # the recorded detail's keys
            assert "short_screenshots" not in detail
            assert all("requirements" in p and "requirements_en" not in p for p in detail["platforms"])
            assert all("url" in store for store in detail["stores"])
            # The same game answers the same detail (deterministic credits).
            assert (
                http.get(srv.base_url("rawg") + f"/games/{game['id']}", params={"key": KEY}).json() == detail
            )


def test_quota_headers_then_429_with_retry_after_until_the_window_resets(
    srv: ReplayServer, http: requests.Session
) -> None:
    srv.set_quota(2, reset_seconds=30)
    url = srv.base_url("rawg") + "/genres"
    first, second, third = (http.get(url, params={"key": KEY}) for _ in range(3))
    assert (
        first.status_code,
        first.headers["X-RateLimit-Remaining"],
        first.headers["RateLimit-Remaining"],
    ) == (200, "1", "1")
    assert second.status_code == 200 and second.headers["X-RateLimit-Remaining"] == "0"
    assert int(second.headers["RateLimit-Reset"]) <= 30 and second.headers["RateLimit-Limit"] == "2"
    assert third.status_code == 429 and 1 <= int(third.headers["Retry-After"]) <= 30
    # A quota per API: TCGdex is not charged for RAWG's calls.
    assert http.get(srv.base_url("tcgdex") + "/series").headers["X-RateLimit-Remaining"] == "1"
    srv.reset()
    assert "X-RateLimit-Remaining" not in http.get(url, params={"key": KEY}).headers


# --- TCGdex -----------------------------------------------------------------------------------


def test_tcgdex_lists_are_bare_arrays_and_paginate_opt_in(srv: ReplayServer, http: requests.Session) -> None:
    base = srv.base_url("tcgdex")
    everything = http.get(base + "/cards").json()
    assert isinstance(everything, list) and len(everything) == len(build_corpus().tcgdex.cards)
    walked, page = [], 1
    while True:
        params = {"pagination:page": page, "pagination:itemsPerPage": 7}
        chunk = http.get(base + "/cards", params=params).json()
        if not chunk:
            break
        walked.extend(chunk)
        page += 1
    assert [c["id"] for c in walked] == [c["id"] for c in everything]
    assert len({c["id"] for c in walked}) == len(walked)
    recorded = set(build_corpus().tcgdex.card_details)
    assert recorded <= {c["id"] for c in everything}
    for name, model in (("sets", tcgdex.SetBrief), ("series", tcgdex.Serie)):
        items = http.get(f"{base}/{name}").json()
        assert items and all(model.model_validate(item).unknown_fields() == set() for item in items)


def test_tcgdex_every_listed_card_has_a_valid_priced_detail(
    srv: ReplayServer, http: requests.Session
) -> None:
    base = srv.base_url("tcgdex")
    recorded = build_corpus().tcgdex.card_details
    providers = {"cardmarket": set(), "tcgplayer": set()}
    for brief in http.get(base + "/cards").json():
        response = http.get(f"{base}/cards/{quote(brief['id'], safe='')}")
        assert response.status_code == 200, brief["id"]
        card = tcgdex.Card.model_validate(response.json())
        assert card.unknown_fields() == set()
        assert card.id == brief["id"] and card.name == brief["name"]
        assert response.headers["X-Replay-Synthetic"] == "1"
        if brief["id"] in recorded:
            assert response.headers["X-Replay-Synthetic-Fields"] == "pricing"
            assert card.hp == recorded[brief["id"]]["hp"]
        else:
            assert response.headers["X-Replay-Synthetic-Fields"] == "record,pricing"
            assert card.attacks is None and card.hp is None  # no invented game stats
        pricing = response.json()["pricing"]
        for provider in providers:
            providers[provider].add(
                "absent" if provider not in pricing else "null" if pricing[provider] is None else "present"
            )
        if pricing.get("cardmarket"):
            assert pricing["cardmarket"]["unit"] == "EUR" and "avg-holo" in pricing["cardmarket"]
        if pricing.get("tcgplayer"):
            assert pricing["tcgplayer"]["unit"] == "USD"
    # The default corpus shows every documented provider state.
    assert providers["cardmarket"] >= {"present", "null"}
    assert providers["tcgplayer"] >= {"present", "null", "absent"}


def test_tcgdex_url_encoded_id_and_not_found(srv: ReplayServer, http: requests.Session) -> None:
    base = srv.base_url("tcgdex")
    card = http.get(f"{base}/cards/{quote('exu-%3F', safe='')}").json()
    assert card["id"] == "exu-%3F" and card["set"]["id"] == "exu"
    missing = http.get(f"{base}/cards/nope-1")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_tcgdex_prices_are_deterministic_per_day_and_move_daily() -> None:
    card = dict(build_corpus().tcgdex.card_details["swsh1-136"])
    day1 = tcgdex_pricing(card, date(2026, 3, 1))
    assert day1 == tcgdex_pricing(card, date(2026, 3, 1))
    days = [tcgdex_pricing(card, date(2026, 3, d)) for d in range(1, 8)]
    provider = "cardmarket" if day1.get("cardmarket") else "tcgplayer"
    assert len({json.dumps(d[provider], sort_keys=True) for d in days}) == 7


def test_tcgdex_pricing_follows_the_as_of_date(srv: ReplayServer, http: requests.Session) -> None:
    url = srv.base_url("tcgdex") + "/cards/swsh1-1"
    first = http.get(url).json()["pricing"]
    srv.app.as_of = date(2026, 3, 2)
    try:
        second = http.get(url).json()["pricing"]
    finally:
        srv.app.as_of = AS_OF
    assert first != second and first == http.get(url).json()["pricing"]


def test_tcgdex_set_and_serie_details(srv: ReplayServer, http: requests.Session) -> None:
    base = srv.base_url("tcgdex")
    recorded = http.get(base + "/sets/swsh1")
    assert "X-Replay-Synthetic" not in recorded.headers and recorded.json()["releaseDate"] == "2020-02-07"
    minimal = http.get(base + "/sets/swsh3")
    assert minimal.headers["X-Replay-Synthetic"] == "1"
    body = minimal.json()
    assert body["serie"] == {"id": "swsh", "name": "Sword & Shield"}
    assert body["cards"] and all(c["id"].startswith("swsh3-") for c in body["cards"])
    assert tcgdex.SetBrief.model_validate(body).unknown_fields() == set()
    assert http.get(base + "/series/swsh").json()["sets"]
    assert http.get(base + "/series/xy").json()["id"] == "xy"


# --- pokemontcg.io ----------------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "model"), [("cards", pokemontcg.Card), ("sets", pokemontcg.Set)])
def test_pokemontcg_pages(srv: ReplayServer, http: requests.Session, resource: str, model: type) -> None:
    corpus = build_corpus().pokemontcg
    expected = [i["id"] for i in (corpus.cards if resource == "cards" else corpus.sets)]
    seen, page = [], 1
    while True:
        body = http.get(
            f"{srv.base_url('pokemontcg')}/{resource}",
            params={"page": page, "pageSize": 50},
            headers={"X-Api-Key": "any"},
        ).json()
        assert body["page"] == page and body["pageSize"] == 50 and body["totalCount"] == len(expected)
        assert body["count"] == len(body["data"])
        seen.extend(item["id"] for item in body["data"])
        assert all(model.model_validate(item) for item in body["data"])
        if page * body["pageSize"] >= body["totalCount"]:
            break
        page += 1
    assert seen == expected
    detail = http.get(f"{srv.base_url('pokemontcg')}/{resource}/{expected[0]}").json()
    assert detail["data"]["id"] == expected[0]


def test_pokemontcg_default_page_and_404(srv: ReplayServer, http: requests.Session) -> None:
    body = http.get(srv.base_url("pokemontcg") + "/cards").json()
    assert body["page"] == 1 and body["pageSize"] == 250 and body["count"] == 250
    missing = http.get(srv.base_url("pokemontcg") + "/cards/none-0")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404


# --- PokeAPI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["pokemon", "generation"])
def test_pokeapi_offset_pages_with_absolute_urls(
    srv: ReplayServer, http: requests.Session, resource: str
) -> None:
    corpus = build_corpus(pokeapi_pokemon=60).pokeapi  # the corpus the module's server serves
    expected = [i["name"] for i in (corpus.pokemon if resource == "pokemon" else corpus.generations)]
    pages, items = walk_next(http, f"{srv.base_url('pokeapi')}/{resource}")
    assert [i["name"] for i in items] == expected
    assert len(pages[0]["results"]) == min(20, len(expected))  # the live API's default limit
    base = srv.base_url("pokeapi")
    assert all(i["url"].startswith(f"{base}/{resource}/") and i["url"].endswith("/") for i in items)
    if len(pages) > 1:
        assert pages[1]["previous"].startswith(base) and "offset=0" in pages[1]["previous"]


def test_pokeapi_details(srv: ReplayServer, http: requests.Session) -> None:
    base = srv.base_url("pokeapi")
    by_name = http.get(base + "/pokemon/bulbasaur/")
    by_id = http.get(base + "/pokemon/1")
    assert by_name.json() == by_id.json() and "X-Replay-Synthetic" not in by_name.headers
    bulbasaur = pokeapi.Pokemon.model_validate(by_name.json())
    assert bulbasaur.species and bulbasaur.species.url == f"{base}/pokemon-species/1/"
    assert '"/api/v2/' not in by_name.text  # every URL made absolute, like the live API
    mega = pokeapi.Pokemon.model_validate(http.get(base + "/pokemon/clefable-mega").json())
    assert mega.base_experience is None
    minimal = http.get(base + "/pokemon/ivysaur")
    assert minimal.headers["X-Replay-Synthetic"] == "1"
    assert minimal.json()["types"] == [] and minimal.json()["id"] == 2
    assert pokeapi.Pokemon.model_validate(minimal.json()).species
    gen9 = pokeapi.Generation.model_validate(http.get(base + "/generation/generation-ix/").json())
    assert gen9.id == 9
    gen3 = http.get(base + "/generation/3/")
    assert gen3.json() == {"id": 3, "name": "generation-iii"} and gen3.headers["X-Replay-Synthetic"] == "1"
    assert http.get(base + "/pokemon/missingno").status_code == 404


def test_pokeapi_every_listed_pokemon_has_a_valid_detail(srv: ReplayServer, http: requests.Session) -> None:
    base = srv.base_url("pokeapi")
    _, items = walk_next(http, base + "/pokemon", {"limit": 200})
    for item in items:
        detail = pokeapi.Pokemon.model_validate(http.get(item["url"]).json())
        assert detail.id == resource_id(item["url"]) and detail.name == item["name"]


# --- faults, latency, stats --------------------------------------------------------------------


def _fault(srv: ReplayServer, http: requests.Session, **spec: object) -> None:
    response = http.post(srv.url + "/_replay/faults", json=spec)
    assert response.status_code == 201, response.text


def test_fault_429_with_retry_after_then_recovers(srv: ReplayServer, http: requests.Session) -> None:
    _fault(srv, http, path="/pokemontcg/v2/cards$", kind="429", times=2, retry_after=3)
    url = srv.base_url("pokemontcg") + "/cards"
    for _ in range(2):
        limited = http.get(url)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert http.get(url).status_code == 200
    assert http.get(srv.base_url("pokemontcg") + "/sets").status_code == 200


@pytest.mark.parametrize("kind", ["500", "401"])
def test_fault_status(srv: ReplayServer, http: requests.Session, kind: str) -> None:
    srv.add_fault(path="tcgdex", kind=kind)
    assert http.get(srv.base_url("tcgdex") + "/series").status_code == int(kind)
    assert http.get(srv.base_url("tcgdex") + "/series").status_code == 200


def test_fault_timeout(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/generation$", kind="timeout", delay=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(srv.base_url("pokeapi") + "/generation", timeout=0.3)
    assert http.get(srv.base_url("pokeapi") + "/generation", timeout=5).status_code == 200


def test_fault_malformed(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/rawg/api/genres", kind="malformed")
    response = http.get(srv.base_url("rawg") + "/genres", params={"key": KEY})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.content)
    assert http.get(srv.base_url("rawg") + "/genres", params={"key": KEY}).json()["results"]


def test_fault_wrong_type_breaks_exactly_one_record(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/rawg/api/games", kind="wrong_type")
    page = http.get(srv.base_url("rawg") + "/games", params={"key": KEY}).json()
    failures = 0
    for item in page["results"]:
        try:
            rawg.Game.model_validate(item)
        except ValueError:
            failures += 1
            assert isinstance(item["id"], dict)
    assert failures == 1 and page["next"]


def test_fault_unknown_field_is_reported_as_drift(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/pokemontcg/v2/sets", kind="unknown_field", field="legal_status")
    body = http.get(srv.base_url("pokemontcg") + "/sets", params={"pageSize": 5}).json()
    assert len(body["data"]) == 5
    for item in body["data"]:
        assert pokemontcg.Set.model_validate(item).unknown_fields() == {"legal_status"}


def test_fault_on_detail_endpoint(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/pokemon/bulbasaur", kind="unknown_field")
    detail = http.get(srv.base_url("pokeapi") + "/pokemon/bulbasaur").json()
    assert pokeapi.Pokemon.model_validate(detail).unknown_fields() == {"replay_unknown_field"}


def test_fault_until_reset_and_bad_specs(srv: ReplayServer, http: requests.Session) -> None:
    srv.add_fault(path="/series", kind="500", times=0)
    assert [http.get(srv.base_url("tcgdex") + "/series").status_code for _ in range(3)] == [500] * 3
    srv.reset()
    assert http.get(srv.base_url("tcgdex") + "/series").status_code == 200
    assert http.post(srv.url + "/_replay/faults", json={"path": "x", "kind": "teapot"}).status_code == 400
    assert http.post(srv.url + "/_replay/faults", json={"kind": "500"}).status_code == 400
    assert http.post(srv.url + "/_replay/faults", json={"path": "(", "kind": "500"}).status_code == 400


def test_stats_and_reset(srv: ReplayServer, http: requests.Session) -> None:
    for _ in range(3):
        http.get(srv.base_url("pokeapi") + "/generation")
    http.get(srv.base_url("rawg") + "/games")  # 401, still counted
    stats = http.get(srv.url + "/_replay/stats").json()
    assert stats["requests"] == 4
    assert stats["by_path"] == {"/pokeapi/api/v2/generation": 3, "/rawg/api/games": 1}
    assert stats["by_status"] == {"200": 3, "401": 1}
    assert http.post(srv.url + "/_replay/reset").json() == {"reset": True}
    assert http.get(srv.url + "/_replay/stats").json()["requests"] == 0
    assert srv.stats()["requests"] == 0


def test_latency(srv: ReplayServer, http: requests.Session) -> None:
    url = srv.base_url("pokeapi") + "/generation"
    srv.set_latency(250)
    started = time.perf_counter()
    assert http.get(url).status_code == 200
    assert time.perf_counter() - started >= 0.25
    srv.reset()  # back to the configured latency (0)
    started = time.perf_counter()
    http.get(url)
    assert time.perf_counter() - started < 0.25


def test_cli_serves() -> None:
    import subprocess
    import sys

    from gmp_dev.local.stack import free_port, wait_for_port

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gmp_dev.replay.server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--rawg-key",
            "cli-key",
            "--synthetic-games",
            "100",
            "--latency-ms",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=30, what="replay server")
        body = requests.get(f"http://127.0.0.1:{port}/rawg/api/games", params={"key": "cli-key"}, timeout=5)
        assert body.json()["count"] == 100 and body.headers["X-Replay-Synthetic"] == "1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.stdout is not None and b"replay server on http://127.0.0.1" in proc.stdout.read()


def test_cli_rejects_bad_arguments() -> None:
    with pytest.raises(SystemExit):
        main(["--as-of", "not-a-date"])


# --- synthetic games --------------------------------------------------------------------------


def test_synthetic_games_are_deterministic_and_rawg_shaped() -> None:
    first, again = SyntheticGames(500, seed=1), SyntheticGames(500, seed=1)
    other = SyntheticGames(500, seed=2)
    assert first.results_json(0, 500) == again.results_json(0, 500)
    assert first.results_json(0, 40) != other.results_json(0, 40)
    template_keys = {frozenset(g) for g in build_corpus().rawg.games}
    games = json.loads(first.results_json(0, 500))
    assert len({g["id"] for g in games}) == 500
    for game in games:
        assert frozenset(game) in template_keys  # exactly a real list item's keys
        assert rawg.Game.model_validate(game).unknown_fields() == set()
    updated = [g["updated"] for g in games]
    assert updated == sorted(updated)


def test_synthetic_games_are_lazy() -> None:
    tracemalloc.start()
    try:
        started = time.perf_counter()
        huge = SyntheticGames(10**12, seed=3)
        last_page = json.loads(huge.results_json(10**12 - 40, 10**12))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(last_page) == 40 and last_page[-1]["id"] == 10_000_000 + 10**12 - 1
    assert elapsed < 2.0
    assert peak < 50 * 2**20  # a page and the templates, never the collection
    window = huge.index_range(datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert len(window) > 10**9 and huge.updated_at(window.start).date() == date(2026, 1, 1)
    assert huge.updated_at(window.stop).date() == date(2026, 1, 2)


def test_synthetic_games_over_http() -> None:
    server = start_replay_server(synthetic_games=1000, seed=5)
    try:
        with requests.Session() as http:
            pages, items = walk_next(http, server.base_url("rawg") + "/games", {"key": KEY, "page_size": 40})
            assert len(pages) == 25 and pages[0]["count"] == 1000
            assert len({g["id"] for g in items}) == 1000
            assert items == json.loads(SyntheticGames(1000, seed=5).results_json(0, 1000))
            games = SyntheticGames(1000, seed=5)
            march = (date(2025, 3, 1), date(2025, 3, 31))
            expected = [i for i in range(1000) if march[0] <= games.updated_at(i).date() <= march[1]]
            _, window = walk_next(
                http,
                server.base_url("rawg") + "/games",
                {"key": KEY, "updated": "2025-03-01,2025-03-31", "page_size": 10},
            )
            assert [g["id"] for g in window] == [10_000_000 + i for i in expected]
            response = http.get(server.base_url("rawg") + "/games", params={"key": KEY})
            assert response.headers["X-Replay-Synthetic"] == "1"
            detail = http.get(
                server.base_url("rawg") + f"/games/{items[7]['id']}", params={"key": KEY}
            ).json()
            assert (
                detail["updated"] == items[7]["updated"] and detail["developers"]
            )  # synthetic games have details
            server.add_fault(path="/rawg/api/games", kind="wrong_type")
            broken = http.get(server.base_url("rawg") + "/games", params={"key": KEY}).json()
            assert sum(isinstance(g["id"], dict) for g in broken["results"]) == 1
    finally:
        server.stop()


def test_default_corpus_lists_only_recorded_pokemon() -> None:
    from gmp_dev.replay.corpus import build_corpus

    corpus = build_corpus()
    assert sorted(corpus.pokeapi.pokemon_details) == [1, 10278]  # bulbasaur and clefable-mega were recorded
    assert len(corpus.pokeapi.pokemon) == 2
