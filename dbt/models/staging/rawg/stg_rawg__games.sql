{#-
  The latest version of each RAWG game. Incremental: each build reads only the raw versions at or
  after the watermark of THIS table (macros/incremental.sql) and merges the newest per game, so a
  daily run costs in proportion to what was ingested since the target was last built. The index on
  _ingested_at serves every reader's watermark filter (bridges, dims, fact_games read through it);
  the pre-hook records the watermark before the build (`since`), the scope of incremental data tests;
  a new table gets its statistics at once (a table dbt just created has none, and the default guess
  of a third of the table for those filters costs seq scans; later the planner reads the current
  end of the range from the index, and autovacuum keeps the rest).
-#}
{{ config(
    materialized='incremental',
    unique_key='game_id',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['game_id'], 'unique': true}, {'columns': ['_ingested_at']}],
    pre_hook="{{ record_since() }}",
    post_hook="{% if not is_incremental() %}analyze {{ this }} (game_id, _ingested_at){% endif %}",
) }}

select distinct on (game_id) *
from {{ ref('stg_rawg__game_versions') }}
where game_id is not null
  and {{ incremental_watermark_filter() }}
order by game_id, _ingested_at desc, _content_hash desc
