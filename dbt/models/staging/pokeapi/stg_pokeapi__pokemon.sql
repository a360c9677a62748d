{#-
  The latest version of each PokeAPI pokemon detail. A pokemon is a FORM (id 10278 is
  clefable-mega); the national dex number is its SPECIES id, read from the species URL. Types are
  ordered by slot and canonical (seed pokemon_type_aliases, game type system). base_experience is
  null on new forms, and stays null.
-#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('pokeapi', 'pokemon') }}
    order by {{ latest_version_order() }}
),

typed as (
    select
        {{ json_integer("payload -> 'id'") }}                      as pokemon_id,
        lower({{ json_text("payload -> 'name'") }})                as pokemon_slug,
        lower({{ json_text("payload -> 'species' -> 'name'") }})   as species_slug,
        {{ url_id("payload -> 'species' ->> 'url'") }}             as national_dex_id,
        coalesce({{ json_boolean("payload -> 'is_default'") }}, false) as is_default_form,
        {{ json_integer("payload -> 'height'") }}                  as height_dm,
        {{ json_integer("payload -> 'weight'") }}                  as weight_hg,
        {{ json_integer("payload -> 'base_experience'") }}         as base_experience,
        (
            select coalesce(jsonb_agg(slot.value -> 'type' -> 'name' order by {{ json_integer("slot.value -> 'slot'") }}), '[]'::jsonb)
            from jsonb_array_elements({{ json_array("payload -> 'types'") }}) as slot(value)
        )                                                          as types_json,
        _record_key,
        _content_hash,
        _ingested_at
    from latest
),

with_types as (
    select typed.*, {{ canonical_types('typed.types_json', 'game') }} as types
    from typed
)

select
    pokemon_id,
    pokemon_slug,
    -- The display name: the slug's words capitalised ("mr-mime" -> "Mr Mime").
    {{ standardize_text("initcap(replace(pokemon_slug, '-', ' '))") }}  as pokemon_name,
    species_slug,
    {{ standardize_text("initcap(replace(species_slug, '-', ' '))") }}  as species_name,
    {{ name_key('species_slug') }}                                       as species_name_key,
    national_dex_id,
    is_default_form,
    height_dm,
    weight_hg,
    base_experience,
    types,
    types[1]                                                             as primary_type,
    types[2]                                                             as secondary_type,
    nullif(array_to_string(types, '/'), '')                              as types_label,
    _record_key,
    _content_hash,
    _ingested_at
from with_types
