{#- The latest version of each /publishers item. -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'publishers') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_integer("payload -> 'id'") }}           as publisher_id,
    {{ standardize_text("payload ->> 'name'") }}    as publisher_name,
    {{ json_text("payload -> 'slug'") }}            as publisher_slug,
    {{ json_integer("payload -> 'games_count'") }}  as games_count,
    _record_key,
    _content_hash,
    _ingested_at
from latest
