{#-
  One row per (game, developer) of the latest game versions. Only /games/{id} DETAILS carry
  `developers`; a /games list item has none, so this holds what the staged data has (see the README).
  `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
select
    games.game_id,
    element.developer_id,
    element.developer_name,
    element.developer_slug,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'id'") }})
        {{ json_integer("value -> 'id'") }}          as developer_id,
        {{ standardize_text("value ->> 'name'") }}   as developer_name,
        {{ json_text("value -> 'slug'") }}           as developer_slug
    from jsonb_array_elements(games.developers_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'id'") }} is not null
    order by {{ json_integer("value -> 'id'") }}, position
) as element
