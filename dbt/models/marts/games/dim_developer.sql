-- Developers: the /developers list plus any developer a game detail names that the list lacks (list
-- items of /games carry no developers; see the README). Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_developer') }}
{{ game_member_dim('developer', 'developers') }}
