{#- Platforms: the /platforms list plus any platform a game names that the list lacks; canonical names. -#}
with listed as (
    select platform_id, platform_name, platform_slug, games_count, year_start, year_end
    from {{ ref('stg_rawg__platforms') }}
),

from_games as (
    select distinct on (platform_id) platform_id, platform_name, platform_slug
    from {{ ref('int_rawg__game_platforms') }}
    order by platform_id, platform_name
)

select
    {{ surrogate_key(['coalesce(listed.platform_id, from_games.platform_id)']) }} as platform_key,
    coalesce(listed.platform_id, from_games.platform_id)        as platform_id,
    coalesce(listed.platform_name, from_games.platform_name)    as platform_name,
    coalesce(listed.platform_slug, from_games.platform_slug)    as platform_slug,
    listed.games_count,
    listed.year_start,
    listed.year_end,
    listed.platform_id is not null                              as is_listed
from listed
full outer join from_games on from_games.platform_id = listed.platform_id
