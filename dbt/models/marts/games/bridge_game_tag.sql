{#- Game <-> tag (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'tag_id']) }}                 as game_tag_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['tag_id']) }}                             as tag_key,
    game_id,
    tag_id
from {{ ref('int_rawg__game_tags') }}
