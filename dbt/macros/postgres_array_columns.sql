{#-
  dbt-postgres reports an array column's type as information_schema's generic "ARRAY", which is
  not a type Postgres can cast to: unit-test fixtures (`cast(null as ARRAY)`) and schema syncs of
  incremental models break on the array columns this project has (types, national_dex_ids).
  Same query as the adapter's, with the real element type for arrays ("text[]", "int4[]").
-#}
{% macro postgres__get_columns_in_relation(relation) -%}
  {% call statement('get_columns_in_relation', fetch_result=True) %}
      select
          column_name,
          case when data_type = 'ARRAY' then substr(udt_name, 2) || '[]' else data_type end as data_type,
          character_maximum_length,
          numeric_precision,
          numeric_scale

      from {{ relation.information_schema('columns') }}
      where table_name = '{{ relation.identifier }}'
        {% if relation.schema %}
        and table_schema = '{{ relation.schema }}'
        {% endif %}
      order by ordinal_position

  {% endcall %}
  {% set table = load_result('get_columns_in_relation').table %}
  {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}
