{#- Which generation introduced each Pokémon species (national dex id), from the generation details. -#}
select distinct on (species.species_id)
    species.species_id as national_dex_id,
    generations.generation_id
from {{ ref('stg_pokeapi__generation') }} as generations
cross join lateral unnest(generations.species_ids) as species(species_id)
order by species.species_id, generations.generation_id
