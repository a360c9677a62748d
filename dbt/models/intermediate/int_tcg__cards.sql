{#-
  THE CARD MATCH RULE. A TCGdex card and a pokemontcg.io card are the same card when they have the
  same canonical set_code (set ids aligned by set_code_from_id + seed tcg_set_aliases: swsh3.5 ~
  swsh35, sv03.5 ~ sv3pt5, lc ~ base6) AND the same collector-number key (card_number_key: "001" ~ "1",
  "H1" kept). The card's key is a surrogate of (set_code, card_number_key), so each API's price rows
  get the same card_key whether or not the other API has the card yet. Names are not part of the
  key (they differ: "Venusaur-EX" vs "Venusaur EX"); name_agrees flags matched pairs whose name_key
  differs, and a warn-level test reports them.
-#}
{{ config(materialized='table') }}

with tcgdex as (
    select distinct on (set_code, card_number_key) *
    from {{ ref('stg_tcgdex__cards') }}
    where set_code is not null and card_number_key is not null
    order by set_code, card_number_key, _ingested_at desc, card_id
),

pokemontcg as (
    select distinct on (set_code, card_number_key) *
    from {{ ref('stg_pokemontcg__cards') }}
    where set_code is not null and card_number_key is not null
    order by set_code, card_number_key, _ingested_at desc, card_id
)

select
    {{ surrogate_key(['coalesce(t.set_code, p.set_code)', 'coalesce(t.card_number_key, p.card_number_key)']) }} as card_key,
    coalesce(t.set_code, p.set_code)                    as set_code,
    coalesce(t.card_number_key, p.card_number_key)      as card_number_key,
    t.card_id                                           as tcgdex_card_id,
    p.card_id                                           as pokemontcg_card_id,
    coalesce(t.card_name, p.card_name)                  as card_name,
    coalesce(t.card_name_key, p.card_name_key)          as card_name_key,
    coalesce(p.supertype, case when t.category = 'Pokemon' then 'Pokémon' else t.category end) as supertype,
    coalesce(t.rarity, p.rarity)                        as rarity,
    coalesce(t.hp, p.hp)                                as hp,
    case when cardinality(t.types) > 0 then t.types else coalesce(p.types, '{}') end as types,
    case when cardinality(t.types) > 0 then t.types_label else p.types_label end as types_label,
    case
        when cardinality(p.national_dex_ids) > 0 then p.national_dex_ids
        else coalesce(t.national_dex_ids, '{}')
    end                                                 as national_dex_ids,
    case
        when t.card_id is not null and p.card_id is not null then 'both'
        when t.card_id is not null then 'tcgdex_only'
        else 'pokemontcg_only'
    end                                                 as match_status,
    case when t.card_id is not null and p.card_id is not null
         then t.card_name_key = p.card_name_key end     as name_agrees,
    greatest(t._ingested_at, p._ingested_at)            as _ingested_at
from tcgdex as t
full outer join pokemontcg as p
    on p.set_code = t.set_code and p.card_number_key = t.card_number_key
