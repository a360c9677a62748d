{#- Card <-> Pokémon: every Pokémon a card shows (by dex id, or by standardised name when it carries none). -#}
select
    {{ surrogate_key(['card_key', 'pokemon_id']) }}   as card_pokemon_key,
    card_key,
    {{ surrogate_key(['pokemon_id']) }}               as pokemon_key,
    national_dex_id,
    position                                          as pokemon_position,
    link_method
from {{ ref('int_tcg__card_pokemon_links') }}
