{#-
  Platforms: the /platforms list plus any platform a game names that the list lacks; canonical names.
  Incremental merge on platform_id, reading: the whole list (small); the platforms of the games
  whose latest version arrived since this table's recorded watermark; and this table's own rows
  for the members some game still names (bridge_game_platform). The result is a full build's: the
  list's values win and a listed row arriving later turns a game-only member into a listed one;
  among the games' spellings the least wins; a game-only member that no game names any more is
  deleted (post-hook delete_unreferenced_members). One difference: should the games spell one
  member differently, the least spelling seen is kept after the games that had it change (a full
  build takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='platform_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_platform'), ref('int_rawg__game_platforms'),
                                        'platform_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_platform') }}

with listed as (
    select platform_id, platform_name, platform_slug, games_count, year_start, year_end
    from {{ ref('stg_rawg__platforms') }}
),

seen_in_games as (
    select platform_id, platform_name, platform_slug
    from {{ ref('int_rawg__game_platforms') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.platform_id, known.platform_name, known.platform_slug
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_platform') }} as bridge
                  where bridge.platform_id = known.platform_id)
    {%- endif %}
),

from_games as (
    select distinct on (platform_id) platform_id, platform_name, platform_slug
    from seen_in_games
    order by platform_id, platform_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.platform_id, from_games.platform_id)']) }} as platform_key,
        coalesce(listed.platform_id, from_games.platform_id)            as platform_id,
        coalesce(listed.platform_name, from_games.platform_name)        as platform_name,
        coalesce(listed.platform_slug, from_games.platform_slug)        as platform_slug,
        listed.games_count,
        listed.year_start,
        listed.year_end,
        listed.platform_id is not null                                  as is_listed
    from listed
    full outer join from_games on from_games.platform_id = listed.platform_id
)

select platform_key, platform_id, platform_name, platform_slug, games_count, year_start, year_end, is_listed
from members
{%- if is_incremental() %}
except
select platform_key, platform_id, platform_name, platform_slug, games_count, year_start, year_end, is_listed
from {{ this }}
{%- endif %}
