{#-
  One row per (game, publisher) of the latest game versions. Only /games/{id} DETAILS carry
  `publishers` (raw.rawg__game_details, docs/INGESTION-DETAILS.md): the credits are those of the game's
  latest version that has them, so a list item that changed after the game's detail keeps the
  detail's credits until the next detail arrives. Found by `_record_key` (the raw tables' unique
  index), per game of stg_rawg__games. `_ingested_at`: the game version's (see int_rawg__game_tags).
-#}
select
    games.game_id,
    element.publisher_id,
    element.publisher_name,
    element.publisher_slug,
    games._ingested_at
from {{ ref('stg_rawg__games') }} as games
cross join lateral (
    select versions.publishers_json
    from {{ ref('stg_rawg__game_versions') }} as versions
    where versions._record_key = games._record_key and versions.has_credits
    order by versions._ingested_at desc, versions._content_hash desc
    limit 1
) as credited
cross join lateral (
    select distinct on ({{ json_integer("value -> 'id'") }})
        {{ json_integer("value -> 'id'") }}          as publisher_id,
        {{ standardize_text("value ->> 'name'") }}   as publisher_name,
        {{ json_text("value -> 'slug'") }}           as publisher_slug
    from jsonb_array_elements(credited.publishers_json) with ordinality as item(value, position)
    where {{ json_integer("value -> 'id'") }} is not null
    order by {{ json_integer("value -> 'id'") }}, position
) as element
