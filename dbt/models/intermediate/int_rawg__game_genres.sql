{#- One row per (game, genre) of the latest game versions; genre names canonical (seed genre_aliases). -#}
with elements as (
    select
        games.game_id,
        {{ json_integer("element.value -> 'id'") }}          as genre_id,
        {{ standardize_text("element.value ->> 'name'") }}   as source_name,
        {{ json_text("element.value -> 'slug'") }}           as genre_slug
    from {{ ref('stg_rawg__games') }} as games
    cross join lateral jsonb_array_elements(games.genres_json) as element(value)
),

aliases as (
    select distinct on ({{ name_key('alias') }}) {{ name_key('alias') }} as alias_key, canonical_name
    from {{ ref('genre_aliases') }}
    order by {{ name_key('alias') }}, canonical_name
)

select distinct on (elements.game_id, elements.genre_id)
    elements.game_id,
    elements.genre_id,
    coalesce(aliases.canonical_name, elements.source_name) as genre_name,
    elements.genre_slug
from elements
left join aliases on aliases.alias_key = {{ name_key('elements.source_name') }}
where elements.genre_id is not null
order by elements.game_id, elements.genre_id
