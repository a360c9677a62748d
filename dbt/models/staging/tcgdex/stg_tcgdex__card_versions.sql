{#-
  Every version of every TCGdex card detail, typed (a view; the incremental models filter it on
  _ingested_at). `pricing` (cardmarket EUR / tcgplayer USD blocks, either null or absent) is kept
  as jsonb for fact_tcg_card_prices; `dexId` is absent (not null) on cards without a Pokémon.
-#}
{{ config(materialized='view') }}

select
    {{ json_text("payload -> 'id'") }}                              as card_id,
    {{ json_text("payload -> 'localId'") }}                         as local_id,
    {{ standardize_text("payload ->> 'name'") }}                    as card_name,
    {{ json_text("payload -> 'category'") }}                        as category,
    {{ standardize_text("payload ->> 'rarity'") }}                  as rarity,
    {{ json_integer("payload -> 'hp'") }}                           as hp,
    {{ json_text("payload -> 'stage'") }}                           as stage,
    {{ json_text("payload -> 'illustrator'") }}                     as illustrator,
    {{ json_text("payload -> 'set' -> 'id'") }}                     as set_id,
    {{ standardize_text("payload -> 'set' ->> 'name'") }}           as set_name,
    {{ json_integer("payload -> 'set' -> 'cardCount' -> 'official'") }} as set_card_count_official,
    {{ json_integer("payload -> 'set' -> 'cardCount' -> 'total'") }}    as set_card_count_total,
    lower(substring(coalesce(payload -> 'set' ->> 'logo', payload -> 'set' ->> 'symbol', payload ->> 'image')
                    from '^https?://[^/]+/(?:[a-z]{2}|univ)/([^/]+)/'))  as series_id,
    {{ json_array("payload -> 'types'") }}                          as types_json,
    {{ json_array("payload -> 'dexId'") }}                          as dex_ids_json,
    {{ json_object("payload -> 'pricing'") }}                       as pricing_json,
    {{ json_timestamp("payload -> 'updated'") }}                    as updated_at,
    _record_key,
    _content_hash,
    _ingested_at,
    _run_id
from {{ source('tcgdex', 'cards') }}
