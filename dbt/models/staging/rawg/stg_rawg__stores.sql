{#- The latest version of each /stores item. -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'stores') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_integer("payload -> 'id'") }}           as store_id,
    {{ standardize_text("payload ->> 'name'") }}    as store_name,
    {{ json_text("payload -> 'slug'") }}            as store_slug,
    lower({{ json_text("payload -> 'domain'") }})   as store_domain,
    {{ json_integer("payload -> 'games_count'") }}  as games_count,
    _record_key,
    _content_hash,
    _ingested_at
from latest
