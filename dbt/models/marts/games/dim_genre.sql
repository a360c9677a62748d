-- Genres: the /genres list plus any genre a game names that the list lacks; canonical names.
-- Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_genre') }}
{{ game_member_dim('genre', 'genres') }}
