{#- One row per (game, store) of the latest game versions (list items: {id, store{...}}; details add `url`). -#}
select distinct on (games.game_id, {{ json_integer("element.value -> 'store' -> 'id'") }})
    games.game_id,
    {{ json_integer("element.value -> 'store' -> 'id'") }}          as store_id,
    {{ standardize_text("element.value -> 'store' ->> 'name'") }}   as store_name,
    {{ json_text("element.value -> 'store' -> 'slug'") }}           as store_slug,
    lower({{ json_text("element.value -> 'store' -> 'domain'") }})  as store_domain,
    {{ json_text("element.value -> 'url'") }}                       as store_url
from {{ ref('stg_rawg__games') }} as games
cross join lateral jsonb_array_elements(games.stores_json) as element(value)
where {{ json_integer("element.value -> 'store' -> 'id'") }} is not null
order by games.game_id, {{ json_integer("element.value -> 'store' -> 'id'") }}
