{#-
  The latest version of each pokemontcg.io card, with the match keys (set_code, card_number_key),
  canonical types and national dex ids. Incremental merge on the watermark of this table.
-#}
{{ config(
    materialized='incremental',
    unique_key='card_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
) }}

with latest as (
    select distinct on (card_id) *
    from {{ ref('stg_pokemontcg__card_versions') }}
    where card_id is not null
      and {{ incremental_watermark_filter() }}
    order by card_id, _ingested_at desc, _content_hash desc
)

select
    latest.card_id,
    latest.card_number,
    latest.card_name,
    {{ name_key('latest.card_name') }}                             as card_name_key,
    latest.supertype,
    latest.rarity,
    latest.hp,
    latest.artist,
    latest.set_id,
    latest.set_name,
    latest.series_name,
    latest.set_printed_total,
    latest.set_total,
    latest.set_ptcgo_code,
    latest.set_release_date,
    coalesce(set_alias.set_code, {{ set_code_from_id('latest.set_id') }}) as set_code,
    {{ card_number_key('latest.card_number') }}                    as card_number_key,
    {{ canonical_types('latest.types_json', 'tcg') }}              as types,
    nullif(array_to_string({{ canonical_types('latest.types_json', 'tcg') }}, '/'), '') as types_label,
    array(
        select jsonb_array_elements_text(latest.subtypes_json)
    )                                                              as subtypes,
    array(
        select cast(d.value as integer)
        from jsonb_array_elements_text(latest.dex_ids_json) with ordinality as d(value, position)
        where d.value ~ '^[0-9]+$'
        order by d.position
    )                                                              as national_dex_ids,
    (latest.tcgplayer_json is not null or latest.cardmarket_json is not null) as has_pricing,
    latest._record_key,
    latest._content_hash,
    latest._ingested_at
from latest
left join {{ ref('tcg_set_aliases') }} as set_alias
    on set_alias.source_api = 'pokemontcg' and set_alias.provider_set_id = latest.set_id
