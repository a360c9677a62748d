-- Tags: the /tags list plus every tag the games carry (the list is paged; games name many more).
-- Incremental merge: macros/game_member_dim.sql.
-- depends_on: {{ ref('stg_rawg__games') }} {{ ref('bridge_game_tag') }}
{{ game_member_dim('tag', 'tags', attributes=['name', 'slug', 'language']) }}
