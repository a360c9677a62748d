{#- The latest version of each /developers item. -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'developers') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_integer("payload -> 'id'") }}           as developer_id,
    {{ standardize_text("payload ->> 'name'") }}    as developer_name,
    {{ json_text("payload -> 'slug'") }}            as developer_slug,
    {{ json_integer("payload -> 'games_count'") }}  as games_count,
    _record_key,
    _content_hash,
    _ingested_at
from latest
