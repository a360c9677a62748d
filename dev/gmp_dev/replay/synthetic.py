"""Everything the replay server serves that was NOT recorded. Responses built from it carry
`X-Replay-Synthetic: 1`.

1. `SyntheticGames`: N RAWG-shaped games for load tests (`--synthetic-games N`). Each one is a real
   recorded `/games` item used as a template, with ids, names, dates and counters varied by
   (seed, index). Pages are produced lazily from pre-serialized template fragments: nothing holds
   N records, and a page costs ~40 string joins, so a 1,000,000-record pull is bounded by the
   client, not the server.
2. `tcgdex_pricing`: the `pricing` block of TCGdex card details. The recorded card details predate
   TCGdex's pricing feature and no attributable real payload with prices exists (PROVENANCE.md),
   so the prices are SYNTHETIC: the documented shape (cardmarket in EUR with hyphenated `-holo`
   keys, tcgplayer in USD per printing variant, a provider sometimes null or absent) with values
   that are a deterministic function of (card id, UTC day). Same card and day -> same prices; the
   next day they move, so daily incremental loads see real-looking price history.
3. Minimal details for list items whose detail was never recorded (TCGdex cards/sets/series,
   PokeAPI pokemon/generations): only what the real list item (and recorded set details) says;
   no invented game statistics.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

# --- 4. RAWG game details of listed games whose /games/{id} was not recorded -----------------------

# Detail-only fields (rawg/game_detail__*.json) with neutral values: nothing about the game is invented
# except its credits (below). Free text is "" like RAWG's, counters 0.
_DETAIL_DEFAULTS: dict[str, Any] = {
    "description": "",
    "description_raw": "",
    "metacritic_platforms": [],
    "metacritic_url": "",
    "background_image_additional": None,
    "website": "",
    "reactions": {},
    "alternative_names": [],
    "screenshots_count": 0,
    "movies_count": 0,
    "creators_count": 0,
    "achievements_count": 0,
    "parent_achievements_count": 0,
    "parents_count": 0,
    "additions_count": 0,
    "game_series_count": 0,
    "reddit_url": "",
    "reddit_name": "",
    "reddit_description": "",
    "reddit_logo": "",
    "reddit_count": 0,
    "twitch_count": 0,
    "youtube_count": 0,
}
_COMPANY_FIELDS = ("id", "name", "slug", "games_count", "image_background")


def _credits(game_id: int, salt: str, companies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One or two real companies (from the recorded list), chosen by the game id: invented credits."""
    if not companies:
        return []
    h = _mix(game_id ^ int.from_bytes(salt.encode(), "big"))
    picks = [companies[h % len(companies)]]
    if (h >> 32) % 4 == 0 and len(companies) > 1:
        second = companies[(h >> 8) % len(companies)]
        if second["id"] != picks[0]["id"]:
            picks.append(second)
    return [{k: c.get(k) for k in _COMPANY_FIELDS} for c in picks]


def rawg_game_detail(
    item: dict[str, Any], developers: list[dict[str, Any]], publishers: list[dict[str, Any]]
) -> dict[str, Any]:
    """SYNTHETIC `/games/{id}` of a list item, in the recorded details' shape: `stores[]` gain `url: ""`,
    `platforms[]` carry `requirements` (`{}`) instead of `requirements_en/_ru`, no
    `short_screenshots`, the detail-only fields neutral, `name_original` = name, and 1-2 developers and
    publishers taken from the recorded /developers and /publishers lists by the game's id."""
    detail = {k: v for k, v in item.items() if k != "short_screenshots"}
    detail["stores"] = [{**store, "url": ""} for store in item.get("stores") or []]
    detail["platforms"] = [
        {
            **{k: v for k, v in p.items() if k not in ("requirements_en", "requirements_ru")},
            "requirements": {},
        }
        for p in item.get("platforms") or []
    ]
    detail.update(_DETAIL_DEFAULTS)
    detail["name_original"] = item.get("name")
    detail["developers"] = _credits(int(item["id"]), "developers", developers)
    detail["publishers"] = _credits(int(item["id"]), "publishers", publishers)
    return detail


# --- deterministic pseudo-randomness ----------------------------------------------------------

_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread 64-bit hash of an int."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def _unit(*parts: object) -> float:
    """A stable float in [0, 1) for any tuple of values (stable across processes, unlike hash())."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# --- 1. synthetic RAWG games ------------------------------------------------------------------

# Fields varied per game. Everything else (platforms, stores, genres, tags, esrb_rating, ratings,
# added_by_status, short_screenshots, ...) is the template's real content, shape included.
_VARIED = (
    "id",
    "slug",
    "name",
    "released",
    "updated",
    "rating",
    "rating_top",
    "ratings_count",
    "reviews_text_count",
    "reviews_count",
    "added",
    "metacritic",
    "playtime",
    "suggestions_count",
)
_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Hollow",
    "Iron",
    "Lost",
    "Neon",
    "Broken",
    "Eternal",
    "Savage",
    "Quiet",
    "Frozen",
    "Golden",
    "Hidden",
    "Wild",
    "Last",
    "Dark",
    "Bright",
    "Rogue",
)
_NOUNS = (
    "Frontier",
    "Kingdom",
    "Signal",
    "Harbor",
    "Legacy",
    "Circuit",
    "Orchard",
    "Citadel",
    "Drift",
    "Voyage",
    "Tides",
    "Empire",
    "Garden",
    "Protocol",
    "Hunt",
    "Horizon",
    "Arena",
)
_SUFFIXES = ("", "", "", " II", " III", ": Remastered", " Online", ": Origins", " Deluxe", " VR")
SYNTHETIC_ID_OFFSET = 10_000_000  # above every real RAWG id (they are < 1.1M)
# Synthetic `updated` timestamps are spread evenly over this window, in index order, so the
# `updated=<from>,<to>` filter maps to a contiguous index range (found by bisection, no scan).
UPDATED_WINDOW = (datetime(2025, 1, 1), datetime(2027, 1, 1))


class _Template:
    """A real item serialized once, split around the varied fields: UTF-8 byte fragments."""

    def __init__(self, item: dict[str, Any]):
        marked = dict(item)
        for name in _VARIED:
            marked[name] = f"@@{name}@@"
        text = json.dumps(marked, ensure_ascii=False, separators=(",", ":"))
        fragments: list[str] = []
        self.slots: list[str] = []
        rest = text
        while True:
            start = rest.find('"@@')
            if start < 0:
                fragments.append(rest)
                break
            end = rest.index('@@"', start + 3)
            fragments.append(rest[:start])
            self.slots.append(rest[start + 3 : end])
            rest = rest[end + 3 :]
        self.fragments = [fragment.encode() for fragment in fragments]
        self.had_release = item.get("released") is not None
        self.had_metacritic = item.get("metacritic") is not None


_RELEASE_DAYS = 13_000
_FIRST_RELEASE = date(1990, 1, 1)


class SyntheticGames:
    """`count` deterministic RAWG `/games` items, generated on demand (never all in memory).

    >>> games = SyntheticGames(1_000_000, seed=7)
    >>> body = games.results_bytes(999_960, 1_000_000)   # the last page of 40, a JSON array
    """

    def __init__(self, count: int, seed: int = 0, templates: list[dict[str, Any]] | None = None):
        if count < 0:
            raise ValueError("count must be >= 0")
        if templates is None:
            from gmp_dev.replay.corpus import build_corpus

            templates = build_corpus().rawg.games
        if not templates:
            raise ValueError("need at least one template item")
        self.count = count
        self.seed = seed
        self._seed_mix = _mix(seed)
        self._templates = [_Template(t) for t in templates]
        self._window_start = UPDATED_WINDOW[0]
        self._span = int((UPDATED_WINDOW[1] - UPDATED_WINDOW[0]).total_seconds())
        # Small lookup tables instead of datetime arithmetic per record (the hot path).
        window_days = (UPDATED_WINDOW[1] - UPDATED_WINDOW[0]).days
        self._window_day_text = [
            (self._window_start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(window_days + 1)
        ]
        self._release_text = [
            f'"{(_FIRST_RELEASE + timedelta(days=d)).isoformat()}"'.encode() for d in range(_RELEASE_DAYS)
        ]
        self._names = [f"{a} {n}{s}" for a in _ADJECTIVES for n in _NOUNS for s in _SUFFIXES]
        self._slugs = [name.lower().replace(":", "").replace(" ", "-") for name in self._names]

    def __len__(self) -> int:
        return self.count

    # -- timestamps: monotonic in the index --
    def _updated_offset(self, index: int) -> int:
        return index * self._span // max(self.count, 1)

    def updated_at(self, index: int) -> datetime:
        return self._window_start + timedelta(seconds=self._updated_offset(index))

    def _updated_text(self, index: int) -> str:
        offset = self._updated_offset(index)
        day, second = divmod(offset, 86_400)
        hours, rest = divmod(second, 3600)
        return f"{self._window_day_text[day]}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"

    def index_range(self, start: datetime | None, end: datetime | None) -> range:
        """Indexes whose `updated` lies in [start, end) (naive UTC datetimes; None = unbounded)."""

        def first_at_or_after(moment: datetime | None, default: int) -> int:
            if moment is None:
                return default
            target = (moment - self._window_start).total_seconds()
            low, high = 0, self.count
            while low < high:
                middle = (low + high) // 2
                if self._updated_offset(middle) < target:
                    low = middle + 1
                else:
                    high = middle
            return low

        return range(first_at_or_after(start, 0), first_at_or_after(end, self.count))

    # -- records --
    def game_bytes(self, index: int) -> bytes:
        if not 0 <= index < self.count:
            raise IndexError(index)
        h = _mix(index ^ self._seed_mix)
        template = self._templates[h % len(self._templates)]
        game_id = SYNTHETIC_ID_OFFSET + index
        name_index = (h >> 8) % len(self._names)
        rating_hundredths = (h >> 20) % 501
        ratings_count = (h >> 30) % 5000
        values = {
            "id": b"%d" % game_id,
            "slug": b'"%s-%d"' % (self._slugs[name_index].encode(), game_id),
            "name": b'"%s"' % self._names[name_index].encode(),
            "released": self._release_text[(h >> 43) % _RELEASE_DAYS] if template.had_release else b"null",
            "updated": b'"%s"' % self._updated_text(index).encode(),
            "rating": b"%.2f" % (rating_hundredths / 100),
            "rating_top": b"%d" % min(5, round(rating_hundredths / 100)),
            "ratings_count": b"%d" % ratings_count,
            "reviews_text_count": b"%d" % (ratings_count // 40),
            "reviews_count": b"%d" % (ratings_count + (h >> 57)),
            "added": b"%d" % (ratings_count * 3 + (h >> 12) % 900),
            "metacritic": b"%d" % (50 + (h >> 24) % 50) if template.had_metacritic else b"null",
            "playtime": b"%d" % ((h >> 36) % 80),
            "suggestions_count": b"%d" % ((h >> 47) % 700),
        }
        fragments = template.fragments
        parts = [fragments[0]]
        for n, slot in enumerate(template.slots, 1):
            parts.append(values[slot])
            parts.append(fragments[n])
        return b"".join(parts)

    def game_json(self, index: int) -> str:
        return self.game_bytes(index).decode()

    def game(self, index: int) -> dict[str, Any]:
        return json.loads(self.game_bytes(index))

    def results_bytes(self, start: int, stop: int) -> bytes:
        """The JSON array (UTF-8) of items [start, stop), clipped to the collection."""
        stop = min(stop, self.count)
        return b"[" + b",".join([self.game_bytes(i) for i in range(max(start, 0), stop)]) + b"]"

    def results_json(self, start: int, stop: int) -> str:
        return self.results_bytes(start, stop).decode()

    def iter_games(self, start: int = 0, stop: int | None = None) -> Iterator[dict[str, Any]]:
        for index in range(start, self.count if stop is None else min(stop, self.count)):
            yield self.game(index)


# --- 2. synthetic TCGdex pricing --------------------------------------------------------------


def _price_on(card_id: str, salt: str, base: float, day: date) -> float:
    """Smooth seasonal swing plus daily noise around a per-card base price; never below 0.02."""
    ordinal = day.toordinal()
    phase = _unit(card_id, salt, "phase") * 2 * math.pi
    noise = _unit(card_id, salt, ordinal) - 0.5
    return max(0.02, base * (1 + 0.15 * math.sin(ordinal / 11 + phase) + 0.08 * noise))


def _mean_price(card_id: str, salt: str, base: float, day: date, days: int) -> float:
    return sum(_price_on(card_id, salt, base, day - timedelta(days=k)) for k in range(days)) / days


def _stamp(card_id: str, salt: str, day: date) -> str:
    seconds = int(_unit(card_id, salt, "time", day.toordinal()) * 86_400)
    moment = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _tcgplayer_variants(card: dict[str, Any]) -> list[str]:
    variants = card.get("variants") or {}
    names = []
    if variants.get("normal"):
        names.append("normal")
    if variants.get("reverse"):
        names.append("reverse")
    if variants.get("holo"):
        names.append("holofoil")
    if variants.get("firstEdition"):
        names.append("1st-edition-holofoil" if variants.get("holo") else "1st-edition")
    return names or ["normal"]


def _is_tcg_pocket(card: dict[str, Any]) -> bool:
    """TCG Pocket cards are digital only: no market listings (images live under /tcgp/)."""
    return "/tcgp/" in (card.get("image") or "") or bool(card.get("boosters"))


def tcgdex_pricing(card: dict[str, Any], day: date) -> dict[str, Any]:
    """SYNTHETIC `pricing` block for a TCGdex card detail on `day` (see the module docstring)."""
    card_id = card["id"]
    if _is_tcg_pocket(card):
        return {"cardmarket": None, "tcgplayer": None}
    base = 0.05 + 40 * _unit(card_id, "base") ** 4  # most cards cost cents, a few a lot
    holo_base = base * (1.8 + _unit(card_id, "holo"))
    pricing: dict[str, Any] = {}
    presence = _unit(card_id, "providers")  # per card, stable across days
    if presence < 0.06:
        pricing["cardmarket"] = None
    else:
        pricing["cardmarket"] = {
            "updated": _stamp(card_id, "cm", day),
            "unit": "EUR",
            "idProduct": 200_000 + int(_unit(card_id, "idProduct") * 600_000),
            "avg": round(_price_on(card_id, "cm", base, day), 2),
            "low": round(_price_on(card_id, "cm", base, day) * 0.55, 2),
            "trend": round(_mean_price(card_id, "cm", base, day, 7) * 1.02, 2),
            "avg1": round(_price_on(card_id, "cm", base, day - timedelta(days=1)), 2),
            "avg7": round(_mean_price(card_id, "cm", base, day, 7), 2),
            "avg30": round(_mean_price(card_id, "cm", base, day, 30), 2),
            "avg-holo": round(_price_on(card_id, "cmh", holo_base, day), 2),
            "low-holo": round(_price_on(card_id, "cmh", holo_base, day) * 0.6, 2),
            "trend-holo": round(_mean_price(card_id, "cmh", holo_base, day, 7) * 1.02, 2),
            "avg1-holo": round(_price_on(card_id, "cmh", holo_base, day - timedelta(days=1)), 2),
            "avg7-holo": round(_mean_price(card_id, "cmh", holo_base, day, 7), 2),
            "avg30-holo": round(_mean_price(card_id, "cmh", holo_base, day, 30), 2),
        }
    if presence > 0.90:
        pass  # tcgplayer omitted altogether (the docs say a provider without data "will be omitted")
    elif presence > 0.80:
        pricing["tcgplayer"] = None
    else:
        product_id = 80_000 + int(_unit(card_id, "productId") * 500_000)
        block: dict[str, Any] = {"updated": _stamp(card_id, "tp", day), "unit": "USD"}
        for n, variant in enumerate(_tcgplayer_variants(card)):
            usd = _price_on(card_id, f"tp-{variant}", base * 1.1 * (1 + n * 0.7), day)
            no_direct_seller = _unit(card_id, variant, "direct", day.toordinal()) < 0.3
            direct_low = None if no_direct_seller else round(usd * 0.9, 2)
            block[variant] = {
                "productId": product_id,
                "lowPrice": round(usd * 0.6, 2),
                "midPrice": round(usd * 1.1, 2),
                "highPrice": round(usd * 3.5, 2),
                "marketPrice": round(usd, 2),
                "directLowPrice": direct_low,
            }
        pricing["tcgplayer"] = block
    return pricing


# --- 3. minimal details of items whose detail was never recorded -------------------------------


def minimal_tcgdex_card(brief: dict[str, Any], set_info: dict[str, Any] | None) -> dict[str, Any]:
    """The real brief ({id, localId, name, image?}) plus the card's set as the recordings know it."""
    card = {k: brief[k] for k in ("id", "localId", "name", "image") if k in brief}
    if set_info:
        card["set"] = set_info
    return card


def minimal_pokemon(item: dict[str, Any], pokemon_id: int, absolute: str) -> dict[str, Any]:
    """From a list item: id (from its url), name; species/types unknown beyond that."""
    return {
        "id": pokemon_id,
        "name": item["name"],
        # The species of a default form shares the Pokémon's id and name; forms (id >= 10000)
        # point elsewhere, which the list does not say: no species for them.
        **(
            {"species": {"name": item["name"], "url": f"{absolute}/pokemon-species/{pokemon_id}/"}}
            if pokemon_id < 10_000
            else {}
        ),
        "types": [],
    }


def minimal_generation(item: dict[str, Any], generation_id: int) -> dict[str, Any]:
    return {"id": generation_id, "name": item["name"]}
