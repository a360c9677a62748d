{#-
  Publishers: the /publishers list (the dimension's main source) plus any publisher a game detail names
  that the list lacks (list items of /games carry no publishers; see the README).
-#}
with listed as (
    select publisher_id, publisher_name, publisher_slug, games_count from {{ ref('stg_rawg__publishers') }}
),

from_games as (
    select distinct on (publisher_id) publisher_id, publisher_name, publisher_slug
    from {{ ref('int_rawg__game_publishers') }}
    order by publisher_id, publisher_name
)

select
    {{ surrogate_key(['coalesce(listed.publisher_id, from_games.publisher_id)']) }} as publisher_key,
    coalesce(listed.publisher_id, from_games.publisher_id)          as publisher_id,
    coalesce(listed.publisher_name, from_games.publisher_name)      as publisher_name,
    coalesce(listed.publisher_slug, from_games.publisher_slug)      as publisher_slug,
    listed.games_count,
    listed.publisher_id is not null                               as is_listed
from listed
full outer join from_games on from_games.publisher_id = listed.publisher_id
