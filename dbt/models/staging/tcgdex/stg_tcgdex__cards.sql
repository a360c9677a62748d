{#-
  The latest version of each TCGdex card, with the keys the two card APIs are matched on
  (set_code, card_number_key; see dim_tcg_card), canonical types and national dex ids.
  Incremental merge on the watermark of this table (macros/incremental.sql).
-#}
{{ config(
    materialized='incremental',
    unique_key='card_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
) }}

with latest as (
    select distinct on (card_id) *
    from {{ ref('stg_tcgdex__card_versions') }}
    where card_id is not null
      and {{ incremental_watermark_filter() }}
    order by card_id, _ingested_at desc, _content_hash desc
)

select
    latest.card_id,
    latest.local_id,
    latest.card_name,
    {{ name_key('latest.card_name') }}                             as card_name_key,
    latest.category,
    latest.rarity,
    latest.hp,
    latest.stage,
    latest.illustrator,
    latest.set_id,
    latest.set_name,
    latest.set_card_count_official,
    latest.set_card_count_total,
    latest.series_id,
    coalesce(set_alias.set_code, {{ set_code_from_id('latest.set_id') }}) as set_code,
    {{ card_number_key('latest.local_id') }}                       as card_number_key,
    {{ canonical_types('latest.types_json', 'tcg') }}              as types,
    nullif(array_to_string({{ canonical_types('latest.types_json', 'tcg') }}, '/'), '') as types_label,
    array(
        select cast(d.value as integer)
        from jsonb_array_elements_text(latest.dex_ids_json) with ordinality as d(value, position)
        where d.value ~ '^[0-9]+$'
        order by d.position
    )                                                              as national_dex_ids,
    latest.pricing_json is not null                                as has_pricing,
    latest.updated_at,
    latest._record_key,
    latest._content_hash,
    latest._ingested_at
from latest
left join {{ ref('tcg_set_aliases') }} as set_alias
    on set_alias.source_api = 'tcgdex' and set_alias.provider_set_id = latest.set_id
