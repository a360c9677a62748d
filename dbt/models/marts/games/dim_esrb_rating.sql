{#- The ESRB ratings: the closed domain from the seed, plus any id the games use that the seed lacks. -#}
with from_games as (
    select distinct on (esrb_rating_id) esrb_rating_id, esrb_rating_slug, esrb_rating_name
    from {{ ref('stg_rawg__games') }}
    where esrb_rating_id is not null
    order by esrb_rating_id, _ingested_at desc
)

select
    {{ surrogate_key(['coalesce(seed.esrb_rating_id, from_games.esrb_rating_id)']) }} as esrb_rating_key,
    coalesce(seed.esrb_rating_id, from_games.esrb_rating_id)       as esrb_rating_id,
    coalesce(seed.esrb_rating_slug, from_games.esrb_rating_slug)   as esrb_rating_slug,
    coalesce(seed.esrb_rating_name, from_games.esrb_rating_name)   as esrb_rating_name,
    seed.minimum_age
from {{ ref('esrb_ratings') }} as seed
full outer join from_games on from_games.esrb_rating_id = seed.esrb_rating_id
