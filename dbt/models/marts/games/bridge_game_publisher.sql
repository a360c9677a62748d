{#- Game <-> publisher (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'publisher_id']) }}                 as game_publisher_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['publisher_id']) }}                             as publisher_key,
    game_id,
    publisher_id
from {{ ref('int_rawg__game_publishers') }}
