{#-
  Daily trading-card price history: one row per card, price variant, market, providing API and
  day. The day is the provider's own price date (TCGplayer/Cardmarket `updated`/`updatedAt` as the
  provider wrote it; the ingestion day when a block has none). Currency: USD for TCGplayer, EUR
  for Cardmarket (TCGdex states `unit`; pokemontcg.io documents them).

  Price columns: low / mid / high / market / direct_low (TCGplayer: lowPrice, midPrice, highPrice,
  marketPrice, directLowPrice) and low / market / trend / avg1 / avg7 / avg30 (Cardmarket: low,
  avg (TCGdex) or averageSellPrice (pokemontcg.io), trend, avg1/7/30). A variant whose prices are
  all null is not a row.

  Incremental: reads only the card versions ingested since this table's watermark, so every run
  adds the new days (and corrects a day re-published by a newer version: merge on the natural key).
-#}
{{ config(
    materialized='incremental',
    unique_key='card_price_key',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
) }}

with tcgdex_versions as (
    select
        versions.card_id,
        coalesce(set_alias.set_code, {{ set_code_from_id('versions.set_id') }}) as set_code,
        {{ card_number_key('versions.local_id') }}                            as card_number_key,
        {{ json_object("versions.pricing_json -> 'tcgplayer'") }}             as tcgplayer,
        {{ json_object("versions.pricing_json -> 'cardmarket'") }}            as cardmarket,
        versions._ingested_at,
        versions._content_hash
    from {{ ref('stg_tcgdex__card_versions') }} as versions
    left join {{ ref('tcg_set_aliases') }} as set_alias
        on set_alias.source_api = 'tcgdex' and set_alias.provider_set_id = versions.set_id
    where versions.pricing_json is not null
      and {{ incremental_watermark_filter('versions._ingested_at') }}
),

pokemontcg_versions as (
    select
        versions.card_id,
        coalesce(set_alias.set_code, {{ set_code_from_id('versions.set_id') }}) as set_code,
        {{ card_number_key('versions.card_number') }}                         as card_number_key,
        versions.tcgplayer_json                                               as tcgplayer,
        versions.cardmarket_json                                              as cardmarket,
        versions._ingested_at,
        versions._content_hash
    from {{ ref('stg_pokemontcg__card_versions') }} as versions
    left join {{ ref('tcg_set_aliases') }} as set_alias
        on set_alias.source_api = 'pokemontcg' and set_alias.provider_set_id = versions.set_id
    where (versions.tcgplayer_json is not null or versions.cardmarket_json is not null)
      and {{ incremental_watermark_filter('versions._ingested_at') }}
),

prices as (
    -- TCGdex TCGplayer: {updated, unit, <variant>: {lowPrice, midPrice, highPrice, marketPrice, directLowPrice}}
    select
        'tcgdex' as source_api, v.card_id, v.set_code, v.card_number_key, 'tcgplayer' as market,
        variant.key as provider_variant,
        {{ json_date("v.tcgplayer -> 'updated'") }} as price_date,
        coalesce(upper({{ json_text("v.tcgplayer -> 'unit'") }}), 'USD') as currency,
        {{ json_numeric("variant.value -> 'lowPrice'") }} as low_price,
        {{ json_numeric("variant.value -> 'midPrice'") }} as mid_price,
        {{ json_numeric("variant.value -> 'highPrice'") }} as high_price,
        {{ json_numeric("variant.value -> 'marketPrice'") }} as market_price,
        {{ json_numeric("variant.value -> 'directLowPrice'") }} as direct_low_price,
        null::numeric as trend_price, null::numeric as avg1_price, null::numeric as avg7_price,
        null::numeric as avg30_price,
        v._ingested_at, v._content_hash
    from tcgdex_versions as v
    cross join lateral jsonb_each(coalesce(v.tcgplayer, '{}'::jsonb)) as variant(key, value)
    where jsonb_typeof(variant.value) = 'object'

    union all

    -- TCGdex Cardmarket: unsuffixed keys = the card's default printing, "-holo" keys = holofoil
    select
        'tcgdex', v.card_id, v.set_code, v.card_number_key, 'cardmarket',
        family.provider_variant,
        {{ json_date("v.cardmarket -> 'updated'") }},
        coalesce(upper({{ json_text("v.cardmarket -> 'unit'") }}), 'EUR'),
        {{ json_numeric("v.cardmarket -> ('low' || family.suffix)") }},
        null, null,
        {{ json_numeric("v.cardmarket -> ('avg' || family.suffix)") }},
        null,
        {{ json_numeric("v.cardmarket -> ('trend' || family.suffix)") }},
        {{ json_numeric("v.cardmarket -> ('avg1' || family.suffix)") }},
        {{ json_numeric("v.cardmarket -> ('avg7' || family.suffix)") }},
        {{ json_numeric("v.cardmarket -> ('avg30' || family.suffix)") }},
        v._ingested_at, v._content_hash
    from tcgdex_versions as v
    cross join (values ('default', ''), ('holo', '-holo')) as family(provider_variant, suffix)
    where v.cardmarket is not null

    union all

    -- pokemontcg.io TCGplayer: {updatedAt, prices: {<variant>: {low, mid, high, market, directLow}}}
    select
        'pokemontcg', v.card_id, v.set_code, v.card_number_key, 'tcgplayer',
        variant.key,
        {{ json_date("v.tcgplayer -> 'updatedAt'") }},
        'USD',
        {{ json_numeric("variant.value -> 'low'") }},
        {{ json_numeric("variant.value -> 'mid'") }},
        {{ json_numeric("variant.value -> 'high'") }},
        {{ json_numeric("variant.value -> 'market'") }},
        {{ json_numeric("variant.value -> 'directLow'") }},
        null, null, null, null,
        v._ingested_at, v._content_hash
    from pokemontcg_versions as v
    cross join lateral jsonb_each(coalesce({{ json_object("v.tcgplayer -> 'prices'") }}, '{}'::jsonb)) as variant(key, value)
    where jsonb_typeof(variant.value) = 'object'

    union all

    -- pokemontcg.io Cardmarket: {updatedAt, prices: {averageSellPrice, lowPrice, trendPrice, avg1/7/30,
    -- reverseHoloSell, reverseHoloLow, reverseHoloTrend, reverseHoloAvg1/7/30, ...}}
    select
        'pokemontcg', v.card_id, v.set_code, v.card_number_key, 'cardmarket',
        family.provider_variant,
        {{ json_date("v.cardmarket -> 'updatedAt'") }},
        'EUR',
        {{ json_numeric("v.cardmarket -> 'prices' -> family.low_key") }},
        null, null,
        {{ json_numeric("v.cardmarket -> 'prices' -> family.market_key") }},
        null,
        {{ json_numeric("v.cardmarket -> 'prices' -> family.trend_key") }},
        {{ json_numeric("v.cardmarket -> 'prices' -> family.avg1_key") }},
        {{ json_numeric("v.cardmarket -> 'prices' -> family.avg7_key") }},
        {{ json_numeric("v.cardmarket -> 'prices' -> family.avg30_key") }},
        v._ingested_at, v._content_hash
    from pokemontcg_versions as v
    cross join (values
        ('default', 'lowPrice', 'averageSellPrice', 'trendPrice', 'avg1', 'avg7', 'avg30'),
        ('reverseHolo', 'reverseHoloLow', 'reverseHoloSell', 'reverseHoloTrend',
         'reverseHoloAvg1', 'reverseHoloAvg7', 'reverseHoloAvg30')
    ) as family(provider_variant, low_key, market_key, trend_key, avg1_key, avg7_key, avg30_key)
    where v.cardmarket is not null
),

canonical as (
    select
        prices.*,
        coalesce(variant_map.price_variant, lower(prices.provider_variant)) as price_variant,
        coalesce(prices.price_date, (prices._ingested_at at time zone 'UTC')::date) as price_day
    from prices
    left join {{ ref('tcg_price_variants') }} as variant_map
        on variant_map.source_api = prices.source_api
       and variant_map.market = prices.market
       and variant_map.provider_variant = prices.provider_variant
    where prices.set_code is not null
      and prices.card_number_key is not null
      and coalesce(prices.low_price, prices.mid_price, prices.high_price, prices.market_price,
                   prices.direct_low_price, prices.trend_price, prices.avg1_price, prices.avg7_price,
                   prices.avg30_price) is not null
),

latest_per_day as (
    -- a day re-published by a newer card version: the newest version's prices win
    select distinct on (set_code, card_number_key, price_variant, market, source_api, price_day) *
    from canonical
    order by set_code, card_number_key, price_variant, market, source_api, price_day,
             _ingested_at desc, _content_hash desc
)

select
    {{ surrogate_key(['set_code', 'card_number_key', 'price_variant', 'market', 'source_api', 'price_day']) }}
                                                                    as card_price_key,
    {{ surrogate_key(['set_code', 'card_number_key']) }}            as card_key,
    {{ date_key('price_day') }}                                     as price_date_key,
    price_day                                                       as price_date,
    price_variant,
    market,
    source_api,
    card_id                                                         as provider_card_id,
    currency,
    low_price,
    mid_price,
    high_price,
    market_price,
    direct_low_price,
    trend_price,
    avg1_price,
    avg7_price,
    avg30_price,
    _ingested_at
from latest_per_day
