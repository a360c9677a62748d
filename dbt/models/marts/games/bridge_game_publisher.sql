-- Game <-> publisher: macros/game_bridge.sql.
-- depends_on: {{ ref('stg_rawg__games') }}
{{ game_bridge('publisher', 'publishers') }}
