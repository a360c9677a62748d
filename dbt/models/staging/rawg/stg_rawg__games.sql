{#-
  The latest version of each RAWG game. Incremental: each build reads only the raw versions at or
  after the watermark of THIS table (macros/incremental.sql) and merges the newest per game, so a
  daily run costs in proportion to what was ingested since the target was last built.
-#}
{{ config(
    materialized='incremental',
    unique_key='game_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
) }}

select distinct on (game_id) *
from {{ ref('stg_rawg__game_versions') }}
where game_id is not null
  and {{ incremental_watermark_filter() }}
order by game_id, _ingested_at desc, _content_hash desc
