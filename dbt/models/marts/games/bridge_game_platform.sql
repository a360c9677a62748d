-- Game <-> platform, with the platform's release of the game: macros/game_bridge.sql.
-- depends_on: {{ ref('stg_rawg__games') }}
{{ game_bridge('platform', 'platforms', ["released_on as platform_released_on", date_key('released_on') ~ ' as platform_release_date_key']) }}
