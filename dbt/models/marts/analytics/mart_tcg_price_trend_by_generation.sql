{#-
  The first thing to open: how trading-card prices move per Pokémon generation. One row per price
  day, generation (of the card's primary Pokémon; "Unknown" when the card links to none), market,
  price variant and currency: how many cards were priced, their average and median market price, the
  average Cardmarket trend, and the change of the average market price against the previous day
  that had prices for the same slice.
-#}
with priced as (
    select
        prices.price_date,
        prices.price_date_key,
        prices.market,
        prices.price_variant,
        prices.currency,
        prices.card_key,
        prices.market_price,
        prices.trend_price,
        coalesce(generations.generation_key, {{ surrogate_key(["'unknown'"]) }}) as generation_slice,
        generations.generation_key,
        coalesce(generations.generation_name, 'Unknown')                    as generation_name,
        generations.generation_id
    from {{ ref('fact_tcg_card_prices') }} as prices
    left join {{ ref('dim_tcg_card') }} as cards on cards.card_key = prices.card_key
    left join {{ ref('dim_pokemon') }} as pokemon on pokemon.pokemon_key = cards.primary_pokemon_key
    left join {{ ref('dim_pokemon_generation') }} as generations on generations.generation_key = pokemon.generation_key
),

daily as (
    select
        price_date,
        price_date_key,
        generation_slice,
        generation_key,
        generation_name,
        generation_id,
        market,
        price_variant,
        currency,
        count(distinct card_key)                                          as cards_priced,
        round(avg(market_price), 4)                                       as avg_market_price,
        round(cast(percentile_cont(0.5) within group (order by market_price) as numeric), 4) as median_market_price,
        round(avg(trend_price), 4)                                        as avg_trend_price
    from priced
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9
)

select
    {{ surrogate_key(['price_date', 'generation_slice', 'market', 'price_variant', 'currency']) }} as trend_key,
    price_date,
    price_date_key,
    generation_key,
    generation_id,
    generation_name,
    market,
    price_variant,
    currency,
    cards_priced,
    avg_market_price,
    median_market_price,
    avg_trend_price,
    avg_market_price - lag(avg_market_price) over (
        partition by generation_slice, market, price_variant, currency order by price_date
    )                                                                     as avg_market_price_change
from daily
