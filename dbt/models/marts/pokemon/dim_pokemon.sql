{#-
  Pokémon (PokeAPI forms: bulbasaur, clefable-mega ...). national_dex_id is the species number;
  generation = the generation that introduced the species. Types canonical, ordered by slot.
-#}
select
    {{ surrogate_key(['pokemon.pokemon_id']) }}                        as pokemon_key,
    pokemon.pokemon_id,
    pokemon.national_dex_id,
    pokemon.pokemon_slug,
    pokemon.pokemon_name,
    pokemon.species_slug,
    pokemon.species_name,
    pokemon.is_default_form,
    pokemon.types,
    pokemon.primary_type,
    pokemon.secondary_type,
    pokemon.types_label,
    case when species.generation_id is not null
         then {{ surrogate_key(['species.generation_id']) }} end      as generation_key,
    pokemon.height_dm,
    pokemon.weight_hg,
    pokemon.base_experience
from {{ ref('stg_pokeapi__pokemon') }} as pokemon
left join {{ ref('int_pokeapi__species_generations') }} as species
    on species.national_dex_id = pokemon.national_dex_id
