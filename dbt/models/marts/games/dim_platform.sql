-- Platforms: the /platforms list (with its years) plus any platform a game names that the list
-- lacks; canonical names. Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_platform') }}
{{ game_member_dim('platform', 'platforms', listed_only=['games_count', 'year_start', 'year_end']) }}
