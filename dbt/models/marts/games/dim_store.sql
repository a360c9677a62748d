{#- Stores: the /stores list plus any store a game names that the list lacks. -#}
with listed as (
    select store_id, store_name, store_slug, store_domain, games_count from {{ ref('stg_rawg__stores') }}
),

from_games as (
    select distinct on (store_id) store_id, store_name, store_slug, store_domain
    from {{ ref('int_rawg__game_stores') }}
    order by store_id, store_name
)

select
    {{ surrogate_key(['coalesce(listed.store_id, from_games.store_id)']) }} as store_key,
    coalesce(listed.store_id, from_games.store_id)          as store_id,
    coalesce(listed.store_name, from_games.store_name)      as store_name,
    coalesce(listed.store_slug, from_games.store_slug)      as store_slug,
    coalesce(listed.store_domain, from_games.store_domain)  as store_domain,
    listed.games_count,
    listed.store_id is not null                             as is_listed
from listed
full outer join from_games on from_games.store_id = listed.store_id
