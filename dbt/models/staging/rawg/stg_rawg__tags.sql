{#- The latest version of each /tags item (tags mix languages: `language` is eng or rus). -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'tags') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_integer("payload -> 'id'") }}           as tag_id,
    {{ standardize_text("payload ->> 'name'") }}    as tag_name,
    {{ json_text("payload -> 'slug'") }}            as tag_slug,
    lower({{ json_text("payload -> 'language'") }}) as tag_language,
    {{ json_integer("payload -> 'games_count'") }}  as games_count,
    _record_key,
    _content_hash,
    _ingested_at
from latest
