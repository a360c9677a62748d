{#- Explicit null / empty handling for the raw jsonb (docs: SOURCES.md lists what is omitted vs null). -#}

{#- The array at `expr`, or an empty array when it is missing, null or not an array. -#}
{% macro json_array(expr) -%}
    case when jsonb_typeof({{ expr }}) = 'array' then {{ expr }} else '[]'::jsonb end
{%- endmacro %}

{#- The object at `expr`, or null when it is missing, null or not an object. -#}
{% macro json_object(expr) -%}
    case when jsonb_typeof({{ expr }}) = 'object' then {{ expr }} end
{%- endmacro %}

{#- A number from a jsonb value that may be a number or a numeric string ("130"); anything else is null. -#}
{% macro json_numeric(expr) -%}
    case
        when jsonb_typeof({{ expr }}) = 'number' then ({{ expr }})::numeric
        when jsonb_typeof({{ expr }}) = 'string' and btrim({{ expr }} #>> '{}') ~ '^-?[0-9]+(\.[0-9]+)?$'
            then btrim({{ expr }} #>> '{}')::numeric
    end
{%- endmacro %}

{% macro json_integer(expr) -%}
    cast(round({{ json_numeric(expr) }}) as integer)
{%- endmacro %}

{% macro json_boolean(expr) -%}
    case when jsonb_typeof({{ expr }}) = 'boolean' then ({{ expr }})::boolean end
{%- endmacro %}

{#- A text value; JSON null and "" become null. -#}
{% macro json_text(expr) -%}
    nullif(btrim({{ expr }} #>> '{}'), '')
{%- endmacro %}

{#- A date from "YYYY-MM-DD", "YYYY/MM/DD" or an ISO timestamp: the calendar day as the provider wrote it. -#}
{% macro json_date(expr) -%}
    case
        when {{ expr }} #>> '{}' ~ '^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}'
            then to_date(translate(left({{ expr }} #>> '{}', 10), '/', '-'), 'YYYY-MM-DD')
    end
{%- endmacro %}

{#- A timestamp; a value without an offset is taken as UTC. -#}
{% macro json_timestamp(expr) -%}
    case
        when {{ expr }} #>> '{}' ~ '^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2}'
            then case
                when {{ expr }} #>> '{}' ~ '(Z|[+-][0-9]{2}:?[0-9]{2})$'
                    then (translate({{ expr }} #>> '{}', '/', '-'))::timestamptz
                else (translate({{ expr }} #>> '{}', '/', '-') || '+00')::timestamptz
            end
    end
{%- endmacro %}

{#- The integer id at the end of a PokeAPI resource URL ("/api/v2/pokemon-species/36/" -> 36). -#}
{% macro url_id(expr) -%}
    cast(substring({{ expr }} from '/([0-9]+)/?$') as integer)
{%- endmacro %}

{#- YYYYMMDD integer key of a date, the key of dim_date (null stays null). -#}
{% macro date_key(expr) -%}
    cast(to_char({{ expr }}, 'YYYYMMDD') as integer)
{%- endmacro %}
