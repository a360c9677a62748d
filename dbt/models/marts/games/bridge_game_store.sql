{#-
  Game <-> store (many-to-many), from the latest version of each game. Incremental: the games whose
  latest version arrived since this table's recorded watermark get all their rows replaced (pre-hook
  delete_changed_games, then append; macros/incremental.sql), and only those games are read.
  (game_id, store_id) is a unique index: the grain is enforced on every write. A new table gets its
  statistics at once (the changed-games lookups are planned with them; autovacuum keeps them later).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['game_id', 'store_id'], 'unique': true}, {'columns': ['store_id']}],
    pre_hook="{{ delete_changed_games(ref('stg_rawg__games')) }}",
    post_hook=[
        "{{ record_watermark(ref('stg_rawg__games')) }}",
        "{% if not is_incremental() %}analyze {{ this }} (game_id, store_id){% endif %}",
    ],
) }}
-- depends_on: {{ ref('stg_rawg__games') }}

select
    {{ surrogate_key(['game_id', 'store_id']) }}                 as game_store_key,
    {{ surrogate_key(['game_id']) }}                                as game_key,
    {{ surrogate_key(['store_id']) }}                             as store_key,
    store_url,
    game_id,
    store_id
from {{ ref('int_rawg__game_stores') }}
where {{ incremental_watermark_filter(watermark_column=none) }}
