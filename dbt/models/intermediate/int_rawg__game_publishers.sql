{#-
  One row per (game, publisher) of the latest game versions. Only /games/{id} DETAILS carry
  `publishers`; a /games list item has none, so this holds what the staged data has (see the README).
  `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
select
    games.game_id,
    element.publisher_id,
    element.publisher_name,
    element.publisher_slug,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'id'") }})
        {{ json_integer("value -> 'id'") }}          as publisher_id,
        {{ standardize_text("value ->> 'name'") }}   as publisher_name,
        {{ json_text("value -> 'slug'") }}           as publisher_slug
    from jsonb_array_elements(games.publishers_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'id'") }} is not null
    order by {{ json_integer("value -> 'id'") }}, position
) as element
