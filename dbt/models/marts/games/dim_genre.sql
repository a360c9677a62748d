{#-
  Genres: the /genres list plus any genre a game names that the list lacks; canonical names.
  Incremental merge on genre_id, reading: the whole list (small); the genres of the games whose
  latest version arrived since this table's recorded watermark; and this table's own rows for the
  members some game still names (bridge_game_genre). The result is a full build's: the list's
  values win and a listed row arriving later turns a game-only member into a listed one; among the
  games' spellings the least wins; a game-only member that no game names any more is deleted
  (post-hook delete_unreferenced_members). One difference: should the games spell one member
  differently, the least spelling seen is kept after the games that had it change (a full build
  takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='genre_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_genre'), ref('int_rawg__game_genres'),
                                        'genre_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_genre') }}

with listed as (
    select genre_id, genre_name, genre_slug, games_count
    from {{ ref('stg_rawg__genres') }}
),

seen_in_games as (
    select genre_id, genre_name, genre_slug
    from {{ ref('int_rawg__game_genres') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.genre_id, known.genre_name, known.genre_slug
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_genre') }} as bridge
                  where bridge.genre_id = known.genre_id)
    {%- endif %}
),

from_games as (
    select distinct on (genre_id) genre_id, genre_name, genre_slug
    from seen_in_games
    order by genre_id, genre_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.genre_id, from_games.genre_id)']) }} as genre_key,
        coalesce(listed.genre_id, from_games.genre_id)                  as genre_id,
        coalesce(listed.genre_name, from_games.genre_name)              as genre_name,
        coalesce(listed.genre_slug, from_games.genre_slug)              as genre_slug,
        listed.games_count,
        listed.genre_id is not null                                     as is_listed
    from listed
    full outer join from_games on from_games.genre_id = listed.genre_id
)

select genre_key, genre_id, genre_name, genre_slug, games_count, is_listed
from members
{%- if is_incremental() %}
except
select genre_key, genre_id, genre_name, genre_slug, games_count, is_listed
from {{ this }}
{%- endif %}
