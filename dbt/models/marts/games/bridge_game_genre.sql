{#- Game <-> genre (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'genre_id']) }}                 as game_genre_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['genre_id']) }}                             as genre_key,
    game_id,
    genre_id
from {{ ref('int_rawg__game_genres') }}
