{#-
  One row per (game, tag) of the latest game versions (a tag listed twice in one game: its first
  occurrence). `_ingested_at` is the game version's: a filter on it reaches the stg_rawg__games scan
  (no DISTINCT/aggregate above it), so incremental readers expand only the games they need.
-#}
select
    games.game_id,
    element.tag_id,
    element.tag_name,
    element.tag_slug,
    element.tag_language,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select distinct on ({{ json_integer("value -> 'id'") }})
        {{ json_integer("value -> 'id'") }}          as tag_id,
        {{ standardize_text("value ->> 'name'") }}   as tag_name,
        {{ json_text("value -> 'slug'") }}           as tag_slug,
        lower({{ json_text("value -> 'language'") }}) as tag_language
    from jsonb_array_elements(games.tags_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'id'") }} is not null
    order by {{ json_integer("value -> 'id'") }}, position
) as element
