{#- Pokémon generations (PokeAPI generation details). -#}
select
    {{ surrogate_key(['generation_id']) }}   as generation_key,
    generation_id,
    generation_slug,
    generation_name,
    roman_numeral,
    main_region,
    cardinality(species_ids)                 as species_count
from {{ ref('stg_pokeapi__generation') }}
