{#- The latest version of each /genres item; the name in its one canonical spelling (seed genre_aliases). -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'genres') }}
    order by {{ latest_version_order() }}
),

aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('genre_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
),

typed as (
    select
        {{ json_integer("payload -> 'id'") }}           as genre_id,
        {{ standardize_text("payload ->> 'name'") }}    as source_name,
        {{ json_text("payload -> 'slug'") }}            as genre_slug,
        {{ json_integer("payload -> 'games_count'") }}  as games_count,
        _record_key,
        _content_hash,
        _ingested_at
    from latest
)

select
    typed.genre_id,
    coalesce(aliases.canonical_name, typed.source_name) as genre_name,
    typed.source_name,
    typed.genre_slug,
    typed.games_count,
    typed._record_key,
    typed._content_hash,
    typed._ingested_at
from typed
left join aliases on aliases.alias_key = {{ name_key('typed.source_name') }}
