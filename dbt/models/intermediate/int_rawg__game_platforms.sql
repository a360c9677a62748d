{#-
  One row per (game, platform) of the latest game versions (a platform listed twice: its earliest
  release date); platform names canonical (seed platform_aliases).
  `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
with aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('platform_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
)

select
    games.game_id,
    element.platform_id,
    coalesce(aliases.canonical_name, element.source_name) as platform_name,
    element.platform_slug,
    element.released_on,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'platform' -> 'id'") }})
        {{ json_integer("value -> 'platform' -> 'id'") }}          as platform_id,
        {{ standardize_text("value -> 'platform' ->> 'name'") }}   as source_name,
        {{ json_text("value -> 'platform' -> 'slug'") }}           as platform_slug,
        {{ json_date("value -> 'released_at'") }}                  as released_on
    from jsonb_array_elements(games.platforms_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'platform' -> 'id'") }} is not null
    order by {{ json_integer("value -> 'platform' -> 'id'") }}, {{ json_date("value -> 'released_at'") }}, position
) as element
left join aliases on aliases.alias_key = {{ name_key('element.source_name') }}
