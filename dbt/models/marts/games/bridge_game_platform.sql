{#- Game <-> platform (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'platform_id']) }}                 as game_platform_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['platform_id']) }}                             as platform_key,
    released_on                                                     as platform_released_on,
    {{ date_key('released_on') }}                                   as platform_release_date_key,
    game_id,
    platform_id
from {{ ref('int_rawg__game_platforms') }}
