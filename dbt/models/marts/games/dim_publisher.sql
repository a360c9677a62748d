-- Publishers: the /publishers list plus any publisher a game detail names that the list lacks (list
-- items of /games carry no publishers; see the README). Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_publisher') }}
{{ game_member_dim('publisher', 'publishers') }}
