{#-
  A jsonb array of type names -> text[] of canonical type names (seed pokemon_type_aliases, for
  `type_system` 'tcg' or 'game'), in the array's order. A spelling the seed does not know is kept
  in its standardised form (and shows up in the accepted_values tests); an empty or missing array
  gives an empty array, never null.
-#}
{% macro canonical_types(json_array_expr, type_system) -%}
    array(
        select coalesce(type_alias.canonical_type, {{ standardize_text('element.value') }})
        from jsonb_array_elements_text({{ json_array(json_array_expr) }}) with ordinality as element(value, position)
        left join {{ ref('pokemon_type_aliases') }} as type_alias
            on type_alias.type_system = '{{ type_system }}'
           and {{ name_key('type_alias.alias') }} = {{ name_key('element.value') }}
        where {{ standardize_text('element.value') }} is not null
        order by element.position
    )
{%- endmacro %}
