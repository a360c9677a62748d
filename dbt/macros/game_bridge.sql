{#-
  A game <-> <member> bridge (many-to-many) from the latest version of each game: the one body of
  every bridge_game_<member> model. Incremental: the games whose latest version arrived since the
  table's recorded watermark get all their rows replaced (pre-hook delete_changed_games, then
  append; macros/incremental.sql), and only those games are read from int_rawg__game_<plural>.
  (game_id, <member>_id) is a unique index: the grain is enforced on every write. A new table gets
  its statistics at once (the changed-games lookups are planned with them; autovacuum keeps them later).
  `extra_columns`: select expressions the member's bridge carries besides the keys, in order.
-#}
{% macro game_bridge(member, plural, extra_columns=[]) %}
{%- set member_id = member ~ '_id' -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['game_id', member_id], 'unique': true}, {'columns': [member_id]}],
    pre_hook="{{ delete_changed_games(ref('stg_rawg__games')) }}",
    post_hook=[
        "{{ record_watermark(ref('stg_rawg__games')) }}",
        "{% if not is_incremental() %}analyze {{ this }} (game_id, " ~ member_id ~ "){% endif %}",
    ],
) }}
select
    {{ surrogate_key(['game_id', member_id]) }} as game_{{ member }}_key,
    {{ surrogate_key(['game_id']) }} as game_key,
    {{ surrogate_key([member_id]) }} as {{ member }}_key,
    {%- for column in extra_columns %}
    {{ column }},
    {%- endfor %}
    game_id,
    {{ member_id }}
from {{ ref('int_rawg__game_' ~ plural) }}
where {{ incremental_watermark_filter(watermark_column=none) }}
{% endmacro %}
