{#-
  One row per (game, developer) of the latest game versions. Only /games/{id} DETAILS carry
  `developers`; a /games list item has none, so this holds what the staged data has (see the README).
-#}
select distinct on (games.game_id, {{ json_integer("element.value -> 'id'") }})
    games.game_id,
    {{ json_integer("element.value -> 'id'") }}          as developer_id,
    {{ standardize_text("element.value ->> 'name'") }}   as developer_name,
    {{ json_text("element.value -> 'slug'") }}           as developer_slug
from {{ ref('stg_rawg__games') }} as games
cross join lateral jsonb_array_elements(games.developers_json) as element(value)
where {{ json_integer("element.value -> 'id'") }} is not null
order by games.game_id, {{ json_integer("element.value -> 'id'") }}
