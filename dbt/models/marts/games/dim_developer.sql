{#-
  Developers: the /developers list (the dimension's main source) plus any developer a game detail
  names that the list lacks (list items of /games carry no developers; see the README).
  Incremental merge on developer_id, reading: the whole list (small); the developers of the games
  whose latest version arrived since this table's recorded watermark; and this table's own rows
  for the members some game still names (bridge_game_developer). The result is a full build's: the
  list's values win and a listed row arriving later turns a game-only member into a listed one;
  among the games' spellings the least wins; a game-only member that no game names any more is
  deleted (post-hook delete_unreferenced_members). One difference: should the games spell one
  member differently, the least spelling seen is kept after the games that had it change (a full
  build takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='developer_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_developer'), ref('int_rawg__game_developers'),
                                        'developer_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_developer') }}

with listed as (
    select developer_id, developer_name, developer_slug, games_count
    from {{ ref('stg_rawg__developers') }}
),

seen_in_games as (
    select developer_id, developer_name, developer_slug
    from {{ ref('int_rawg__game_developers') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.developer_id, known.developer_name, known.developer_slug
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_developer') }} as bridge
                  where bridge.developer_id = known.developer_id)
    {%- endif %}
),

from_games as (
    select distinct on (developer_id) developer_id, developer_name, developer_slug
    from seen_in_games
    order by developer_id, developer_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.developer_id, from_games.developer_id)']) }} as developer_key,
        coalesce(listed.developer_id, from_games.developer_id)          as developer_id,
        coalesce(listed.developer_name, from_games.developer_name)      as developer_name,
        coalesce(listed.developer_slug, from_games.developer_slug)      as developer_slug,
        listed.games_count,
        listed.developer_id is not null                                 as is_listed
    from listed
    full outer join from_games on from_games.developer_id = listed.developer_id
)

select developer_key, developer_id, developer_name, developer_slug, games_count, is_listed
from members
{%- if is_incremental() %}
except
select developer_key, developer_id, developer_name, developer_slug, games_count, is_listed
from {{ this }}
{%- endif %}
