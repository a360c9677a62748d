{#- Tags: the /tags list plus every tag the games carry (the list is paged; games name many more). -#}
with listed as (
    select tag_id, tag_name, tag_slug, tag_language, games_count from {{ ref('stg_rawg__tags') }}
),

from_games as (
    select distinct on (tag_id) tag_id, tag_name, tag_slug, tag_language
    from {{ ref('int_rawg__game_tags') }}
    order by tag_id, tag_name
)

select
    {{ surrogate_key(['coalesce(listed.tag_id, from_games.tag_id)']) }} as tag_key,
    coalesce(listed.tag_id, from_games.tag_id)              as tag_id,
    coalesce(listed.tag_name, from_games.tag_name)          as tag_name,
    coalesce(listed.tag_slug, from_games.tag_slug)          as tag_slug,
    coalesce(listed.tag_language, from_games.tag_language)  as tag_language,
    listed.games_count,
    listed.tag_id is not null                               as is_listed
from listed
full outer join from_games on from_games.tag_id = listed.tag_id
