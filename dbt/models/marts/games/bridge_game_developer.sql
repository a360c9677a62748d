-- Game <-> developer: macros/game_bridge.sql.
-- depends_on: {{ ref('stg_rawg__games') }}
{{ game_bridge('developer', 'developers') }}
