{#- The latest version of each TCGdex serie (brief: id, name, optional logo). -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('tcgdex', 'series') }}
    order by {{ latest_version_order() }}
)

select
    lower({{ json_text("payload -> 'id'") }})        as series_id,
    {{ standardize_text("payload ->> 'name'") }}     as series_name,
    {{ json_text("payload -> 'logo'") }}             as logo_url,
    _record_key,
    _content_hash,
    _ingested_at
from latest
