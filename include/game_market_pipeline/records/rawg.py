"""RAWG (api.rawg.io/api) records: `/games` list items (and game details), and the sub-resources.

Shapes and quirks are those of the recorded payloads (dev/gmp_dev/replay/recordings/rawg, PROVENANCE.md):

- Nullable, always sent: `released` (with `tba`), `background_image`, `metacritic`, `esrb_rating`,
  `added_by_status`, `clip`, `platforms[].released_at`, `platforms[].requirements_en/_ru`.
- `added_by_status` is sparse: a missing status means zero, not unknown.
- `ratings` can be `[]` (with `rating: 0.0`); `ratings[].percent` is an int or a float.
- A list item's `stores[]` is `{id, store}`; a detail's is `{id, url, store}` (and one capture omits
  the outer `id`). A list item's `platforms[]` has `requirements_en/_ru`, a detail's `requirements`.
- Only a game detail carries `developers` and `publishers`.

Only `id` (a real int: `"3498"` or `{...}` is a broken record) and `name` are required; everything
the warehouse reads is declared with its type so a changed type fails validation, and anything
else is kept in the raw payload and reported as drift.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import StrictInt

from game_market_pipeline.records.base import ApiRecord


class NamedRef(ApiRecord):
    """`{id, name, slug}`: how RAWG points at another resource."""

    id: StrictInt
    name: str
    slug: str | None = None


class PlatformRef(NamedRef):
    image: str | None = None
    year_start: int | None = None
    year_end: int | None = None
    games_count: int | None = None
    image_background: str | None = None


class Requirements(ApiRecord):
    minimum: str | None = None
    recommended: str | None = None


class GamePlatform(ApiRecord):
    platform: PlatformRef
    released_at: date | None = None
    requirements_en: Requirements | None = None
    requirements_ru: Requirements | None = None
    # Detail shape: one `requirements` object (often `{}`) instead of the _en/_ru pair.
    requirements: Requirements | None = None


class ParentPlatform(ApiRecord):
    platform: NamedRef


class StoreRef(NamedRef):
    domain: str | None = None
    games_count: int | None = None
    image_background: str | None = None


class GameStore(ApiRecord):
    # The id of the game-in-store link, not of the store (absent in one recorded capture).
    id: int | None = None
    # Detail only; can be "".
    url: str | None = None
    store: StoreRef


class GenreRef(NamedRef):
    games_count: int | None = None
    image_background: str | None = None


class TagRef(GenreRef):
    # "eng" | "rus": tags mix languages (Cyrillic names).
    language: str | None = None


class CompanyRef(GenreRef):
    """A developer or publisher as embedded in a game detail."""


class EsrbRating(NamedRef):
    # Seen only in the filtered-query capture.
    name_en: str | None = None
    name_ru: str | None = None


class RatingBucket(ApiRecord):
    id: int
    title: str | None = None
    count: int | None = None
    percent: float | None = None


class AddedByStatus(ApiRecord):
    """Sparse: RAWG omits a status instead of sending 0."""

    yet: int | None = None
    owned: int | None = None
    beaten: int | None = None
    toplay: int | None = None
    dropped: int | None = None
    playing: int | None = None


class ShortScreenshot(ApiRecord):
    # id -1 is the background image repeated as a fake screenshot.
    id: int
    image: str | None = None


class MetacriticPlatformRef(ApiRecord):
    # Here the key `platform` holds the platform's int id.
    platform: int
    name: str | None = None
    slug: str | None = None


class MetacriticPlatform(ApiRecord):
    metascore: int | None = None
    url: str | None = None
    platform: MetacriticPlatformRef | None = None


class Game(ApiRecord):
    """A `/games` list item; game details (`/games/{id}`) validate too (detail-only fields optional)."""

    id: StrictInt
    name: str
    slug: str | None = None
    released: date | None = None
    tba: bool | None = None
    updated: datetime | None = None
    background_image: str | None = None
    rating: float | None = None
    rating_top: int | None = None
    ratings: list[RatingBucket] | None = None
    ratings_count: int | None = None
    reviews_text_count: int | None = None
    reviews_count: int | None = None
    added: int | None = None
    added_by_status: AddedByStatus | None = None
    metacritic: int | None = None
    playtime: int | None = None
    suggestions_count: int | None = None
    saturated_color: str | None = None
    dominant_color: str | None = None
    platforms: list[GamePlatform] | None = None
    parent_platforms: list[ParentPlatform] | None = None
    genres: list[GenreRef] | None = None
    stores: list[GameStore] | None = None
    tags: list[TagRef] | None = None
    esrb_rating: EsrbRating | None = None
    short_screenshots: list[ShortScreenshot] | None = None
    # Always null in the recordings (clips, or the caller's own library entry without user auth).
    clip: Any = None
    user_game: Any = None
    # Present on a few list items only.
    score: float | str | None = None
    community_rating: int | None = None
    # --- detail only ---
    name_original: str | None = None
    description: str | None = None
    description_raw: str | None = None
    metacritic_platforms: list[MetacriticPlatform] | None = None
    metacritic_url: str | None = None
    background_image_additional: str | None = None
    website: str | None = None
    # Keyed by numeric strings: {"1": 30, "13": 2}.
    reactions: dict[str, int] | None = None
    alternative_names: list[str] | None = None
    developers: list[CompanyRef] | None = None
    publishers: list[CompanyRef] | None = None
    screenshots_count: int | None = None
    movies_count: int | None = None
    creators_count: int | None = None
    achievements_count: int | None = None
    parent_achievements_count: int | None = None
    parents_count: int | None = None
    additions_count: int | None = None
    game_series_count: int | None = None
    reddit_url: str | None = None
    reddit_name: str | None = None
    reddit_description: str | None = None
    reddit_logo: str | None = None
    reddit_count: int | None = None
    twitch_count: int | None = None
    youtube_count: int | None = None


class GamePreview(ApiRecord):
    """The `games[]` preview the sub-resource lists embed."""

    id: StrictInt
    name: str | None = None
    slug: str | None = None
    added: int | None = None


class _SubResource(ApiRecord):
    """Shared shape of `/genres`, `/platforms`, `/stores`, `/tags`, `/developers`, `/publishers`."""

    id: StrictInt
    name: str
    slug: str | None = None
    games_count: int | None = None
    image_background: str | None = None
    games: list[GamePreview] | None = None
    # Detail endpoints only (HTML, often "").
    description: str | None = None


class Genre(_SubResource):
    pass


class Platform(_SubResource):
    image: str | None = None
    year_start: int | None = None
    year_end: int | None = None


class Store(_SubResource):
    domain: str | None = None


class Tag(_SubResource):
    language: str | None = None


class Developer(_SubResource):
    pass


class Publisher(_SubResource):
    pass
