{#- The latest version of each PokeAPI generation detail, with the species ids it introduced. -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('pokeapi', 'generation') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_integer("payload -> 'id'") }}                              as generation_id,
    lower({{ json_text("payload -> 'name'") }})                        as generation_slug,
    coalesce(
        (select {{ standardize_text("n.value ->> 'name'") }}
         from jsonb_array_elements({{ json_array("payload -> 'names'") }}) as n(value)
         where n.value -> 'language' ->> 'name' = 'en'
         limit 1),
        {{ standardize_text("initcap(replace(payload ->> 'name', '-', ' '))") }}
    )                                                                  as generation_name,
    upper(substring(payload ->> 'name' from '-([a-z]+)$'))             as roman_numeral,
    lower({{ json_text("payload -> 'main_region' -> 'name'") }})       as main_region,
    array(
        select {{ url_id("s.value ->> 'url'") }}
        from jsonb_array_elements({{ json_array("payload -> 'pokemon_species'") }}) as s(value)
        where {{ url_id("s.value ->> 'url'") }} is not null
        order by 1
    )                                                                  as species_ids,
    _record_key,
    _content_hash,
    _ingested_at
from latest
