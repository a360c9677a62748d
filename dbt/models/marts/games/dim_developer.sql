{#-
  Developers: the /developers list (the dimension's main source) plus any developer a game detail names
  that the list lacks (list items of /games carry no developers; see the README).
-#}
with listed as (
    select developer_id, developer_name, developer_slug, games_count from {{ ref('stg_rawg__developers') }}
),

from_games as (
    select distinct on (developer_id) developer_id, developer_name, developer_slug
    from {{ ref('int_rawg__game_developers') }}
    order by developer_id, developer_name
)

select
    {{ surrogate_key(['coalesce(listed.developer_id, from_games.developer_id)']) }} as developer_key,
    coalesce(listed.developer_id, from_games.developer_id)          as developer_id,
    coalesce(listed.developer_name, from_games.developer_name)      as developer_name,
    coalesce(listed.developer_slug, from_games.developer_slug)      as developer_slug,
    listed.games_count,
    listed.developer_id is not null                               as is_listed
from listed
full outer join from_games on from_games.developer_id = listed.developer_id
