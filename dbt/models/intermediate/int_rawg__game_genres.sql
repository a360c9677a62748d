{#-
  One row per (game, genre) of the latest game versions; genre names canonical (seed genre_aliases).
  `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
with aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('genre_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
)

select
    games.game_id,
    element.genre_id,
    coalesce(aliases.canonical_name, element.source_name) as genre_name,
    element.genre_slug,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'id'") }})
        {{ json_integer("value -> 'id'") }}          as genre_id,
        {{ standardize_text("value ->> 'name'") }}   as source_name,
        {{ json_text("value -> 'slug'") }}           as genre_slug
    from jsonb_array_elements(games.genres_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'id'") }} is not null
    order by {{ json_integer("value -> 'id'") }}, position
) as element
left join aliases on aliases.alias_key = {{ name_key('element.source_name') }}
