{#-
  Cards -> Pokémon. A card that carries national dex ids (TCGdex dexId, pokemontcg.io
  nationalPokedexNumbers) links to the DEFAULT form of each of those species (position = order on
  the card; TAG TEAM cards have several). A card without any links by name: its name with the
  trading-card decorations removed (pokemon_name_from_card: "Venusaur-EX" -> Venusaur, "Dark
  Dragonite" -> Dragonite, "Team Rocket's Meowth" -> Meowth) matched on name_key to a species.
  Trainer and Energy cards carry neither and link to nothing.
-#}
with pokemon as (
    select pokemon_id, national_dex_id, species_name_key
    from {{ ref('stg_pokeapi__pokemon') }}
    where is_default_form
),

by_dex as (
    select cards.card_key, dex.dex_id as national_dex_id, dex.position::integer as position
    from {{ ref('int_tcg__cards') }} as cards
    cross join lateral unnest(cards.national_dex_ids) with ordinality as dex(dex_id, position)
),

by_name as (
    select cards.card_key, {{ name_key(pokemon_name_from_card('cards.card_name')) }} as species_name_key
    from {{ ref('int_tcg__cards') }} as cards
    where cardinality(cards.national_dex_ids) = 0
      and coalesce(cards.supertype, 'Pokémon') in ('Pokémon', 'Pokemon')
)

select by_dex.card_key, pokemon.pokemon_id, by_dex.national_dex_id, by_dex.position, 'dex_id' as link_method
from by_dex
inner join pokemon on pokemon.national_dex_id = by_dex.national_dex_id

union all

select by_name.card_key, pokemon.pokemon_id, pokemon.national_dex_id, 1 as position, 'name' as link_method
from by_name
inner join pokemon on pokemon.species_name_key = by_name.species_name_key
