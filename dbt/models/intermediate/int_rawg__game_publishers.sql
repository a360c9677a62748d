{#-
  One row per (game, publisher) of the latest game versions. Only /games/{id} DETAILS carry
  `publishers`; a /games list item has none, so this holds what the staged data has (see the README).
-#}
select distinct on (games.game_id, {{ json_integer("element.value -> 'id'") }})
    games.game_id,
    {{ json_integer("element.value -> 'id'") }}          as publisher_id,
    {{ standardize_text("element.value ->> 'name'") }}   as publisher_name,
    {{ json_text("element.value -> 'slug'") }}           as publisher_slug
from {{ ref('stg_rawg__games') }} as games
cross join lateral jsonb_array_elements(games.publishers_json) as element(value)
where {{ json_integer("element.value -> 'id'") }} is not null
order by games.game_id, {{ json_integer("element.value -> 'id'") }}
