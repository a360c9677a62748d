{#-
  Tags: the /tags list plus every tag the games carry (the list is paged; games name many more).
  Incremental merge on tag_id, reading: the whole list (small); the tags of the games whose latest
  version arrived since this table's recorded watermark; and this table's own rows for the members
  some game still names (bridge_game_tag). The result is a full build's: the list's values win and
  a listed row arriving later turns a game-only member into a listed one; among the games'
  spellings the least wins; a game-only member that no game names any more is deleted (post-hook
  delete_unreferenced_members). One difference: should the games spell one member differently, the
  least spelling seen is kept after the games that had it change (a full build takes the least
  among the current games). Unchanged rows are not rewritten (`except` this table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='tag_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_tag'), ref('int_rawg__game_tags'),
                                        'tag_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_tag') }}

with listed as (
    select tag_id, tag_name, tag_slug, tag_language, games_count
    from {{ ref('stg_rawg__tags') }}
),

seen_in_games as (
    select tag_id, tag_name, tag_slug, tag_language
    from {{ ref('int_rawg__game_tags') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.tag_id, known.tag_name, known.tag_slug, known.tag_language
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_tag') }} as bridge
                  where bridge.tag_id = known.tag_id)
    {%- endif %}
),

from_games as (
    select distinct on (tag_id) tag_id, tag_name, tag_slug, tag_language
    from seen_in_games
    order by tag_id, tag_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.tag_id, from_games.tag_id)']) }} as tag_key,
        coalesce(listed.tag_id, from_games.tag_id)                      as tag_id,
        coalesce(listed.tag_name, from_games.tag_name)                  as tag_name,
        coalesce(listed.tag_slug, from_games.tag_slug)                  as tag_slug,
        coalesce(listed.tag_language, from_games.tag_language)          as tag_language,
        listed.games_count,
        listed.tag_id is not null                                       as is_listed
    from listed
    full outer join from_games on from_games.tag_id = listed.tag_id
)

select tag_key, tag_id, tag_name, tag_slug, tag_language, games_count, is_listed
from members
{%- if is_incremental() %}
except
select tag_key, tag_id, tag_name, tag_slug, tag_language, games_count, is_listed
from {{ this }}
{%- endif %}
