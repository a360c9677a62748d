"""TCGdex (api.tcgdex.net/v2/en) records: series, sets and cards (the card DETAIL, with prices).

Quirks (dev/gmp_dev/replay/recordings/tcgdex, PROVENANCE.md):

- Optional keys are omitted, never null: `image`, `logo`, `symbol`, `dexId`, `evolveFrom`,
  `regulationMark`, `resistances`, `suffix`, `boosters`, `effect`/`trainerType`, ...
- `attacks[].damage` is a string (`"40"`, `"20+"`) or an int (`90`), or absent.
- Weakness/resistance `value` is `"×2"` (Unicode ×) or `"+20"`; kept as text.
- `localId` is text (`"!"`, `"H1"`, `"XY95"`); card ids may need URL-encoding (`"exu-%3F"`).
- `updated` carries a local offset (`+02:00`) or `Z`.
- `pricing` (newer API): `cardmarket` (EUR, hyphenated `-holo` keys) and `tcgplayer` (USD, one
  object per printing variant); a provider is `null` or omitted when it has no listing.

A card from the `/cards` list (`{id, localId, name, image}`) validates against `Card` too: every
detail-only field is optional, only what identifies a card is required.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import Field, StrictStr

from game_market_pipeline.records.base import ApiRecord


class CardCount(ApiRecord):
    official: int | None = None
    total: int | None = None
    # Set detail only; the counts can be 0.
    firstEd: int | None = None
    holo: int | None = None
    normal: int | None = None
    reverse: int | None = None


class Legal(ApiRecord):
    standard: bool | None = None
    expanded: bool | None = None


class SerieRef(ApiRecord):
    id: StrictStr
    name: str | None = None


class Booster(ApiRecord):
    id: StrictStr
    name: str | None = None


class CardBrief(ApiRecord):
    id: StrictStr
    localId: StrictStr
    name: str
    image: str | None = None


class SetBrief(ApiRecord):
    """A `/sets` list item; a set detail (`/sets/{id}`) validates too."""

    id: StrictStr
    name: str
    logo: str | None = None
    symbol: str | None = None
    cardCount: CardCount | None = None
    # --- detail only ---
    releaseDate: date | None = None
    serie: SerieRef | None = None
    legal: Legal | None = None
    tcgOnline: str | None = None
    boosters: list[Booster] | None = None
    cards: list[CardBrief] | None = None


class Serie(ApiRecord):
    """A `/series` list item; a serie detail (`/series/{id}`, with its `sets`) validates too."""

    id: StrictStr
    name: str
    logo: str | None = None
    releaseDate: date | None = None
    firstSet: SetBrief | None = None
    lastSet: SetBrief | None = None
    sets: list[SetBrief] | None = None


class CardSetRef(ApiRecord):
    id: StrictStr
    name: str | None = None
    logo: str | None = None
    symbol: str | None = None
    cardCount: CardCount | None = None


class Variants(ApiRecord):
    normal: bool | None = None
    reverse: bool | None = None
    holo: bool | None = None
    firstEdition: bool | None = None
    wPromo: bool | None = None


class Attack(ApiRecord):
    name: str
    cost: list[str] | None = None
    effect: str | None = None
    # "40", "20+" or 90: both are real.
    damage: int | str | None = None


class Ability(ApiRecord):
    name: str
    type: str | None = None
    effect: str | None = None


class WeakRes(ApiRecord):
    type: str
    # "×2" (Unicode multiplication sign) or "+20"/"-30": text, not a number.
    value: str | None = None


class Item(ApiRecord):
    name: str
    effect: str | None = None


class CardmarketPrice(ApiRecord):
    """Cardmarket price guide of a card, in EUR. `-holo` values are the foil printing's."""

    updated: datetime | None = None
    unit: str | None = None
    idProduct: int | None = None
    avg: float | None = None
    low: float | None = None
    trend: float | None = None
    avg1: float | None = None
    avg7: float | None = None
    avg30: float | None = None
    avg_holo: float | None = Field(default=None, alias="avg-holo")
    low_holo: float | None = Field(default=None, alias="low-holo")
    trend_holo: float | None = Field(default=None, alias="trend-holo")
    avg1_holo: float | None = Field(default=None, alias="avg1-holo")
    avg7_holo: float | None = Field(default=None, alias="avg7-holo")
    avg30_holo: float | None = Field(default=None, alias="avg30-holo")


class TcgplayerVariantPrice(ApiRecord):
    productId: int | None = None
    lowPrice: float | None = None
    midPrice: float | None = None
    highPrice: float | None = None
    marketPrice: float | None = None
    directLowPrice: float | None = None


class TcgplayerPrice(ApiRecord):
    """TCGplayer prices of a card, in USD, one object per printing variant that has a listing."""

    updated: datetime | None = None
    unit: str | None = None
    normal: TcgplayerVariantPrice | None = None
    reverse: TcgplayerVariantPrice | None = None
    holofoil: TcgplayerVariantPrice | None = None
    # Variant names used by TCGdex's own SDKs (java-sdk PricingTcgPlayer).
    reverse_holofoil: TcgplayerVariantPrice | None = Field(default=None, alias="reverse-holofoil")
    first_edition: TcgplayerVariantPrice | None = Field(default=None, alias="1st-edition")
    first_edition_holofoil: TcgplayerVariantPrice | None = Field(default=None, alias="1st-edition-holofoil")
    unlimited: TcgplayerVariantPrice | None = None
    unlimited_holofoil: TcgplayerVariantPrice | None = Field(default=None, alias="unlimited-holofoil")

    def variant_prices(self) -> dict[str, TcgplayerVariantPrice]:
        """Every variant present, by its payload key (declared or new)."""
        found = {
            (info.alias or name): getattr(self, name)
            for name, info in type(self).model_fields.items()
            if isinstance(getattr(self, name), TcgplayerVariantPrice)
        }
        for key, value in (self.model_extra or {}).items():
            if isinstance(value, dict):
                found[key] = TcgplayerVariantPrice.model_validate(value)
        return found


class Pricing(ApiRecord):
    # Each provider is null, or omitted, when it has no listing for the card.
    cardmarket: CardmarketPrice | None = None
    tcgplayer: TcgplayerPrice | None = None


class Card(ApiRecord):
    """A card detail (`/cards/{id}`), the record the `cards` endpoint stores (fan-out)."""

    id: StrictStr
    localId: StrictStr
    name: str
    image: str | None = None
    category: str | None = None
    illustrator: str | None = None
    rarity: str | None = None
    set: CardSetRef | None = None
    variants: Variants | None = None
    # Absent (not null) on cards that show no Pokémon.
    dexId: list[int] | None = None
    hp: int | None = None
    types: list[str] | None = None
    evolveFrom: str | None = None
    description: str | None = None
    level: int | str | None = None
    stage: str | None = None
    suffix: str | None = None
    item: Item | None = None
    abilities: list[Ability] | None = None
    attacks: list[Attack] | None = None
    weaknesses: list[WeakRes] | None = None
    resistances: list[WeakRes] | None = None
    retreat: int | None = None
    effect: str | None = None
    trainerType: str | None = None
    energyType: str | None = None
    regulationMark: str | None = None
    legal: Legal | None = None
    boosters: list[Booster] | None = None
    updated: datetime | None = None
    pricing: Pricing | None = None
    variants_detailed: list[Any] | None = None
