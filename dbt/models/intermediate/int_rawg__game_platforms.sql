{#- One row per (game, platform) of the latest game versions; platform names canonical (seed platform_aliases). -#}
with elements as (
    select
        games.game_id,
        {{ json_integer("element.value -> 'platform' -> 'id'") }}          as platform_id,
        {{ standardize_text("element.value -> 'platform' ->> 'name'") }}   as source_name,
        {{ json_text("element.value -> 'platform' -> 'slug'") }}           as platform_slug,
        {{ json_date("element.value -> 'released_at'") }}                  as released_on
    from {{ ref('stg_rawg__games') }} as games
    cross join lateral jsonb_array_elements(games.platforms_json) as element(value)
),

aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('platform_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
)

select distinct on (elements.game_id, elements.platform_id)
    elements.game_id,
    elements.platform_id,
    coalesce(aliases.canonical_name, elements.source_name) as platform_name,
    elements.platform_slug,
    elements.released_on
from elements
left join aliases on aliases.alias_key = {{ name_key('elements.source_name') }}
where elements.platform_id is not null
order by elements.game_id, elements.platform_id, elements.released_on
