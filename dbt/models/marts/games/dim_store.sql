{#-
  Stores: the /stores list plus any store a game names that the list lacks.
  Incremental merge on store_id, reading: the whole list (small); the stores of the games whose
  latest version arrived since this table's recorded watermark; and this table's own rows for the
  members some game still names (bridge_game_store). The result is a full build's: the list's
  values win and a listed row arriving later turns a game-only member into a listed one; among the
  games' spellings the least wins; a game-only member that no game names any more is deleted
  (post-hook delete_unreferenced_members). One difference: should the games spell one member
  differently, the least spelling seen is kept after the games that had it change (a full build
  takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).
-#}
{{ config(
    materialized='incremental',
    unique_key='store_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_store'), ref('int_rawg__game_stores'),
                                        'store_id') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_store') }}

with listed as (
    select store_id, store_name, store_slug, store_domain, games_count
    from {{ ref('stg_rawg__stores') }}
),

seen_in_games as (
    select store_id, store_name, store_slug, store_domain
    from {{ ref('int_rawg__game_stores') }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.store_id, known.store_name, known.store_slug, known.store_domain
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_store') }} as bridge
                  where bridge.store_id = known.store_id)
    {%- endif %}
),

from_games as (
    select distinct on (store_id) store_id, store_name, store_slug, store_domain
    from seen_in_games
    order by store_id, store_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.store_id, from_games.store_id)']) }} as store_key,
        coalesce(listed.store_id, from_games.store_id)                  as store_id,
        coalesce(listed.store_name, from_games.store_name)              as store_name,
        coalesce(listed.store_slug, from_games.store_slug)              as store_slug,
        coalesce(listed.store_domain, from_games.store_domain)          as store_domain,
        listed.games_count,
        listed.store_id is not null                                     as is_listed
    from listed
    full outer join from_games on from_games.store_id = listed.store_id
)

select store_key, store_id, store_name, store_slug, store_domain, games_count, is_listed
from members
{%- if is_incremental() %}
except
select store_key, store_id, store_name, store_slug, store_domain, games_count, is_listed
from {{ this }}
{%- endif %}
