{#- Genres: the /genres list plus any genre a game names that the list lacks; canonical names. -#}
with listed as (
    select genre_id, genre_name, genre_slug, games_count from {{ ref('stg_rawg__genres') }}
),

from_games as (
    select distinct on (genre_id) genre_id, genre_name, genre_slug
    from {{ ref('int_rawg__game_genres') }}
    order by genre_id, genre_name
)

select
    {{ surrogate_key(['coalesce(listed.genre_id, from_games.genre_id)']) }} as genre_key,
    coalesce(listed.genre_id, from_games.genre_id)          as genre_id,
    coalesce(listed.genre_name, from_games.genre_name)      as genre_name,
    coalesce(listed.genre_slug, from_games.genre_slug)      as genre_slug,
    listed.games_count,
    listed.genre_id is not null                             as is_listed
from listed
full outer join from_games on from_games.genre_id = listed.genre_id
