{#- Game <-> store (many-to-many), from the latest version of each game. -#}
select
    {{ surrogate_key(['game_id', 'store_id']) }}                 as game_store_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['store_id']) }}                             as store_key,
    store_url,
    game_id,
    store_id
from {{ ref('int_rawg__game_stores') }}
