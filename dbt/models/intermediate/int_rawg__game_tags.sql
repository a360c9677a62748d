{#- One row per (game, tag) of the latest game versions. -#}
select distinct on (games.game_id, {{ json_integer("element.value -> 'id'") }})
    games.game_id,
    {{ json_integer("element.value -> 'id'") }}          as tag_id,
    {{ standardize_text("element.value ->> 'name'") }}   as tag_name,
    {{ json_text("element.value -> 'slug'") }}           as tag_slug,
    lower({{ json_text("element.value -> 'language'") }}) as tag_language
from {{ ref('stg_rawg__games') }} as games
cross join lateral jsonb_array_elements(games.tags_json) as element(value)
where {{ json_integer("element.value -> 'id'") }} is not null
order by games.game_id, {{ json_integer("element.value -> 'id'") }}
