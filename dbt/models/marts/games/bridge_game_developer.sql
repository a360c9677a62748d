{#- Game <-> developer (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'developer_id']) }}                 as game_developer_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['developer_id']) }}                             as developer_key,
    game_id,
    developer_id
from {{ ref('int_rawg__game_developers') }}
