-- Stores: the /stores list plus any store a game names that the list lacks (with its domain).
-- Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_store') }}
{{ game_member_dim('store', 'stores', attributes=['name', 'slug', 'domain']) }}
