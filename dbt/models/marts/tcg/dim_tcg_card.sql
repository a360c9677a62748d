{#-
  One row per trading card, TCGdex and pokemontcg.io cards matched into one (the rule:
  int_tcg__cards). primary_pokemon_key is the first Pokémon the card is linked to
  (bridge_tcg_card_pokemon has them all).
-#}
with primary_link as (
    select distinct on (card_key) card_key, pokemon_id, link_method
    from {{ ref('int_tcg__card_pokemon_links') }}
    order by card_key, position, pokemon_id
)

select
    cards.card_key,
    {{ surrogate_key(['cards.set_code']) }}                        as set_key,
    cards.set_code,
    cards.card_number_key                                          as card_number,
    cards.card_name,
    cards.card_name_key,
    cards.supertype,
    cards.rarity,
    cards.hp,
    cards.types,
    cards.types[1]                                                 as primary_type,
    cards.types_label,
    cards.national_dex_ids,
    cards.tcgdex_card_id,
    cards.pokemontcg_card_id,
    cards.match_status,
    cards.name_agrees,
    case when primary_link.pokemon_id is not null
         then {{ surrogate_key(['primary_link.pokemon_id']) }} end as primary_pokemon_key,
    primary_link.link_method                                       as pokemon_link_method
from {{ ref('int_tcg__cards') }} as cards
left join primary_link on primary_link.card_key = cards.card_key
