"""Pokémon TCG API (api.pokemontcg.io/v2) records: cards (with TCGplayer and Cardmarket prices), sets.

Quirks (dev/gmp_dev/replay/recordings/pokemontcg, PROVENANCE.md):

- Numbers are strings: `hp` ("130"), `number`, `level`, `attacks[].damage` ("30+", "" and once
  null). An int `hp` is a changed API, so it fails validation rather than being coerced.
- Dates use slashes: prices' `updatedAt` and `releaseDate` are `YYYY/MM/DD`, a set's `updatedAt`
  is `YYYY/MM/DD HH:MM:SS`. They are parsed leniently (slashes or dashes) into date/datetime.
- `tcgplayer.prices` is keyed by printing variant, and the keys vary per card (`normal`,
  `holofoil`, `reverseHolofoil`, `1stEditionHolofoil`, ...); `market`/`directLow` can be null.
- `cardmarket.prices` values are int or float or null; the block is missing on older captures.
- Optional keys are omitted, not null (`rarity`, `evolvesFrom`, `abilities`, set `ptcgoCode`...).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, StrictStr

from game_market_pipeline.records.base import ApiRecord


def _dashes(value: Any) -> Any:
    """`2021/03/12` and `2021/03/12 17:37:00` -> ISO, so pydantic parses them; ISO passes through."""
    if isinstance(value, str):
        return value.strip().replace("/", "-")
    return value


SlashDate = Annotated[date, BeforeValidator(_dashes)]
SlashDatetime = Annotated[datetime, BeforeValidator(_dashes)]


class Legalities(ApiRecord):
    unlimited: str | None = None
    standard: str | None = None
    expanded: str | None = None


class SetImages(ApiRecord):
    symbol: str | None = None
    logo: str | None = None


class Set(ApiRecord):
    """A `/sets` item (also embedded in every card as `set`)."""

    id: StrictStr
    name: str
    series: str | None = None
    printedTotal: int | None = None
    total: int | None = None
    legalities: Legalities | None = None
    ptcgoCode: str | None = None
    releaseDate: SlashDate | None = None
    updatedAt: SlashDatetime | None = None
    images: SetImages | None = None


class Ability(ApiRecord):
    name: str
    text: str | None = None
    type: str | None = None


class Attack(ApiRecord):
    name: str
    cost: list[str] | None = None
    convertedEnergyCost: int | None = None
    # "30", "30+", "" or null: a string, never a number.
    damage: str | None = None
    text: str | None = None


class WeakRes(ApiRecord):
    type: str
    value: str | None = None


class CardImages(ApiRecord):
    small: str | None = None
    large: str | None = None


class TcgplayerVariantPrice(ApiRecord):
    low: float | None = None
    mid: float | None = None
    high: float | None = None
    market: float | None = None
    directLow: float | None = None


class Tcgplayer(ApiRecord):
    url: str | None = None
    updatedAt: SlashDate | None = None
    # Keys vary per card: normal, holofoil, reverseHolofoil, 1stEditionHolofoil, 1stEditionNormal...
    prices: dict[str, TcgplayerVariantPrice] | None = None


class CardmarketPrices(ApiRecord):
    averageSellPrice: float | None = None
    lowPrice: float | None = None
    trendPrice: float | None = None
    germanProLow: float | None = None
    suggestedPrice: float | None = None
    reverseHoloSell: float | None = None
    reverseHoloLow: float | None = None
    reverseHoloTrend: float | None = None
    lowPriceExPlus: float | None = None
    avg1: float | None = None
    avg7: float | None = None
    avg30: float | None = None
    reverseHoloAvg1: float | None = None
    reverseHoloAvg7: float | None = None
    reverseHoloAvg30: float | None = None


class Cardmarket(ApiRecord):
    url: str | None = None
    updatedAt: SlashDate | None = None
    prices: CardmarketPrices | None = None


class Card(ApiRecord):
    id: StrictStr
    name: str
    supertype: str | None = None
    subtypes: list[str] | None = None
    level: str | None = None
    hp: str | None = None
    types: list[str] | None = None
    evolvesFrom: str | None = None
    evolvesTo: list[str] | None = None
    rules: list[str] | None = None
    ancientTrait: dict[str, Any] | None = None
    abilities: list[Ability] | None = None
    attacks: list[Attack] | None = None
    weaknesses: list[WeakRes] | None = None
    resistances: list[WeakRes] | None = None
    retreatCost: list[str] | None = None
    convertedRetreatCost: int | None = None
    set: Set | None = None
    number: str | None = None
    artist: str | None = None
    rarity: str | None = None
    flavorText: str | None = None
    nationalPokedexNumbers: list[int] | None = None
    legalities: Legalities | None = None
    regulationMark: str | None = None
    images: CardImages | None = None
    tcgplayer: Tcgplayer | None = None
    cardmarket: Cardmarket | None = None
