{#-
  Every version of every RAWG game, typed: the /games list items (raw.rawg__games) and the
  /games/{id} details (raw.rawg__game_details, fetched for new or changed list items; see
  docs/INGESTION-DETAILS.md), both append-only history. A detail is a newer version of its game.
  A view: the incremental stg_rawg__games reads it with a filter on _ingested_at, which Postgres
  pushes down into the raw table.
  Works for both shapes a game can arrive in: a /games list item and a /games/{id} detail (the
  detail adds developers/publishers; `stores[]` gains `url`, `platforms[]` has `requirements`).
-#}
{{ config(materialized='view') }}

{%- set tables = ['games'] + (['game_details'] if source_exists('rawg', 'game_details') else []) %}
{% for table in tables %}
{% if not loop.first %}union all{% endif %}
select
    {{ json_integer("payload -> 'id'") }}                       as game_id,
    {{ json_text("payload -> 'slug'") }}                        as game_slug,
    {{ standardize_text("payload ->> 'name'") }}                as game_name,
    {{ json_date("payload -> 'released'") }}                    as released_on,
    coalesce({{ json_boolean("payload -> 'tba'") }}, false)    as is_tba,
    {{ json_numeric("payload -> 'rating'") }}                   as rating,
    {{ json_integer("payload -> 'rating_top'") }}               as rating_top,
    {{ json_integer("payload -> 'ratings_count'") }}            as ratings_count,
    {{ json_integer("payload -> 'metacritic'") }}               as metacritic,
    {{ json_integer("payload -> 'playtime'") }}                 as playtime_hours,
    {{ json_integer("payload -> 'added'") }}                    as added_count,
    {{ json_integer("payload -> 'reviews_count'") }}            as reviews_count,
    {{ json_integer("payload -> 'reviews_text_count'") }}       as reviews_text_count,
    {{ json_integer("payload -> 'suggestions_count'") }}        as suggestions_count,
    {{ json_integer("payload -> 'esrb_rating' -> 'id'") }}      as esrb_rating_id,
    {{ standardize_text("payload -> 'esrb_rating' ->> 'name'") }} as esrb_rating_name,
    {{ json_text("payload -> 'esrb_rating' -> 'slug'") }}       as esrb_rating_slug,
    {{ json_timestamp("payload -> 'updated'") }}                as updated_at,
    {{ json_text("payload -> 'background_image'") }}            as background_image_url,
    -- Arrays: missing / null / non-array all become [] (an explicit "none"), never null.
    {{ json_array("payload -> 'platforms'") }}                  as platforms_json,
    {{ json_array("payload -> 'stores'") }}                     as stores_json,
    {{ json_array("payload -> 'genres'") }}                     as genres_json,
    {{ json_array("payload -> 'tags'") }}                       as tags_json,
    -- Only /games/{id} details carry these; a list item has none (see the README, Warehouse).
    {{ json_array("payload -> 'developers'") }}                 as developers_json,
    {{ json_array("payload -> 'publishers'") }}                 as publishers_json,
    (payload ? 'developers' or payload ? 'publishers')         as has_credits,
    _record_key,
    _content_hash,
    _ingested_at,
    _run_id,
    {{ 'true' if table == 'game_details' else 'false' }} as is_detail
from {{ source('rawg', table) }}
{% endfor %}
