{#- The latest version of each /platforms item; the name in its one canonical spelling (seed platform_aliases). -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('rawg', 'platforms') }}
    order by {{ latest_version_order() }}
),

aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('platform_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
),

typed as (
    select
        {{ json_integer("payload -> 'id'") }}           as platform_id,
        {{ standardize_text("payload ->> 'name'") }}    as source_name,
        {{ json_text("payload -> 'slug'") }}            as platform_slug,
        {{ json_integer("payload -> 'games_count'") }}  as games_count,
        {{ json_integer("payload -> 'year_start'") }}   as year_start,
        {{ json_integer("payload -> 'year_end'") }}     as year_end,
        _record_key,
        _content_hash,
        _ingested_at
    from latest
)

select
    typed.platform_id,
    coalesce(aliases.canonical_name, typed.source_name) as platform_name,
    typed.source_name,
    typed.platform_slug,
    typed.games_count,
    typed.year_start,
    typed.year_end,
    typed._record_key,
    typed._content_hash,
    typed._ingested_at
from typed
left join aliases on aliases.alias_key = {{ name_key('typed.source_name') }}
