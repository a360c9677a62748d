{#-
  One row per (game, store) of the latest game versions (list items: {id, store{...}}; details add
  `url`). `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
select
    games.game_id,
    element.store_id,
    element.store_name,
    element.store_slug,
    element.store_domain,
    element.store_url,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'store' -> 'id'") }})
        {{ json_integer("value -> 'store' -> 'id'") }}          as store_id,
        {{ standardize_text("value -> 'store' ->> 'name'") }}   as store_name,
        {{ json_text("value -> 'store' -> 'slug'") }}           as store_slug,
        lower({{ json_text("value -> 'store' -> 'domain'") }})  as store_domain,
        {{ json_text("value -> 'url'") }}                       as store_url
    from jsonb_array_elements(games.stores_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'store' -> 'id'") }} is not null
    order by {{ json_integer("value -> 'store' -> 'id'") }}, position
) as element
