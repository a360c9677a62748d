{#-
  Every version of every pokemontcg.io card, typed (a view; the incremental models filter it on
  _ingested_at). Numbers arrive as strings (hp "130", number "H1"); the `tcgplayer` (USD) and
  `cardmarket` (EUR, added to the API in 2021) price blocks are kept as jsonb for the price fact.
-#}
{{ config(materialized='view') }}

select
    {{ json_text("payload -> 'id'") }}                              as card_id,
    {{ json_text("payload -> 'number'") }}                          as card_number,
    {{ standardize_text("payload ->> 'name'") }}                    as card_name,
    {{ standardize_text("payload ->> 'supertype'") }}               as supertype,
    {{ standardize_text("payload ->> 'rarity'") }}                  as rarity,
    {{ json_integer("payload -> 'hp'") }}                           as hp,
    {{ json_text("payload -> 'artist'") }}                          as artist,
    {{ json_text("payload -> 'set' -> 'id'") }}                     as set_id,
    {{ standardize_text("payload -> 'set' ->> 'name'") }}           as set_name,
    {{ standardize_text("payload -> 'set' ->> 'series'") }}         as series_name,
    {{ json_integer("payload -> 'set' -> 'printedTotal'") }}        as set_printed_total,
    {{ json_integer("payload -> 'set' -> 'total'") }}               as set_total,
    {{ json_text("payload -> 'set' -> 'ptcgoCode'") }}              as set_ptcgo_code,
    {{ json_date("payload -> 'set' -> 'releaseDate'") }}            as set_release_date,
    {{ json_array("payload -> 'types'") }}                          as types_json,
    {{ json_array("payload -> 'subtypes'") }}                       as subtypes_json,
    {{ json_array("payload -> 'nationalPokedexNumbers'") }}         as dex_ids_json,
    {{ json_object("payload -> 'tcgplayer'") }}                     as tcgplayer_json,
    {{ json_object("payload -> 'cardmarket'") }}                    as cardmarket_json,
    _record_key,
    _content_hash,
    _ingested_at,
    _run_id
from {{ source('pokemontcg', 'cards') }}
