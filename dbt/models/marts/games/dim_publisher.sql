{#-
  Publishers: the /publishers list (the dimension's main source) plus any publisher a game detail
  names that the list lacks (list items of /games carry no publishers; see the README).
  Incremental merge on publisher_id, reading: the whole list (small); the publishers of the games
  whose latest version arrived since this table's recorded watermark; and this table's own rows
  for the members some game still names (bridge_game_publisher). The result is a full build's: the
  list's values win and a listed row arriving later turns a game-only member into a listed one;
  among the games' spellings the least wins; a game-only member that no game names any more is
  deleted (post-hook delete_unreferenced_members). One difference: should the games spell one
  member differently, the least spelling seen is kept after the games that had it change (a full
  build takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='publisher_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_publisher'), ref('int_rawg__game_publishers'),
                                        'publisher_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_publisher') }}

with listed as (
    select publisher_id, publisher_name, publisher_slug, games_count
    from {{ ref('stg_rawg__publishers') }}
),

seen_in_games as (
    select publisher_id, publisher_name, publisher_slug
    from {{ ref('int_rawg__game_publishers') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.publisher_id, known.publisher_name, known.publisher_slug
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_publisher') }} as bridge
                  where bridge.publisher_id = known.publisher_id)
    {%- endif %}
),

from_games as (
    select distinct on (publisher_id) publisher_id, publisher_name, publisher_slug
    from seen_in_games
    order by publisher_id, publisher_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.publisher_id, from_games.publisher_id)']) }} as publisher_key,
        coalesce(listed.publisher_id, from_games.publisher_id)          as publisher_id,
        coalesce(listed.publisher_name, from_games.publisher_name)      as publisher_name,
        coalesce(listed.publisher_slug, from_games.publisher_slug)      as publisher_slug,
        listed.games_count,
        listed.publisher_id is not null                                 as is_listed
    from listed
    full outer join from_games on from_games.publisher_id = listed.publisher_id
)

select publisher_key, publisher_id, publisher_name, publisher_slug, games_count, is_listed
from members
{%- if is_incremental() %}
except
select publisher_key, publisher_id, publisher_name, publisher_slug, games_count, is_listed
from {{ this }}
{%- endif %}
