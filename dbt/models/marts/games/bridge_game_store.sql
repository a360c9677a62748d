-- Game <-> store, with the game's page in the store: macros/game_bridge.sql.
-- depends_on: {{ ref('stg_rawg__games') }}
{{ game_bridge('store', 'stores', ['store_url']) }}
