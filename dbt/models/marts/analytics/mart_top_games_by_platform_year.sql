{#-
  Top-rated games per platform and release year (the ten best by RAWG rating, ties broken by the
  number of ratings). Only rated games (ratings_count > 0) of known release year are ranked.
-#}
with ranked as (
    select
        platforms.platform_key,
        platforms.platform_name,
        extract(year from games.released_on)::integer                     as release_year,
        games.game_key,
        games.game_name,
        games.rating,
        games.ratings_count,
        games.metacritic,
        rank() over (
            partition by platforms.platform_key, extract(year from games.released_on)
            order by games.rating desc, games.ratings_count desc, games.game_id
        )                                                                 as rating_rank
    from {{ ref('fact_games') }} as games
    inner join {{ ref('bridge_game_platform') }} as bridge on bridge.game_key = games.game_key
    inner join {{ ref('dim_platform') }} as platforms on platforms.platform_key = bridge.platform_key
    where games.released_on is not null
      and coalesce(games.ratings_count, 0) > 0
)

select
    {{ surrogate_key(['platform_key', 'release_year', 'game_key']) }}   as ranking_key,
    platform_key,
    platform_name,
    release_year,
    rating_rank,
    game_key,
    game_name,
    rating,
    ratings_count,
    metacritic
from ranked
where rating_rank <= 10
