-- Game <-> tag: macros/game_bridge.sql.
-- depends_on: {{ ref('stg_rawg__games') }}
{{ game_bridge('tag', 'tags') }}
