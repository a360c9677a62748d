{#-
  One row per RAWG game (its latest version): the measures RAWG publishes, the release date and
  ESRB rating as dimension keys, and when RAWG last updated the game. Incremental merge on the
  game, reading only the silver rows ingested since this table's own watermark. The pre-hook
  records the watermark before the build (`since`), the scope of the data tests of incremental runs;
  a new table gets its statistics at once (see stg_rawg__games).
-#}
{{ config(
    materialized='incremental',
    unique_key='game_key',
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['game_key'], 'unique': true}, {'columns': ['_ingested_at']}],
    pre_hook="{{ record_since() }}",
    post_hook="{% if not is_incremental() %}analyze {{ this }} (game_key, _ingested_at){% endif %}",
) }}

select
    {{ surrogate_key(['game_id']) }}                                    as game_key,
    game_id,
    game_slug,
    game_name,
    {{ date_key('released_on') }}                                       as release_date_key,
    released_on,
    is_tba,
    case when esrb_rating_id is not null then {{ surrogate_key(['esrb_rating_id']) }} end as esrb_rating_key,
    rating,
    rating_top,
    ratings_count,
    metacritic,
    playtime_hours,
    added_count,
    reviews_count,
    reviews_text_count,
    suggestions_count,
    updated_at,
    {{ date_key('updated_at') }}                                        as updated_date_key,
    _ingested_at
from {{ ref('stg_rawg__games') }}
where {{ incremental_watermark_filter() }}
