{#-
  Whether a source's raw table exists yet: an endpoint that has never run (a manual-only full list
  such as rawg.developers, or rawg.game_details before its first run) has no table, and the models
  reading it must still build. At parse time (no database) the answer is true.
-#}
{% macro source_exists(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set relation = source(source_name, table_name) -%}
    {{ return(adapter.get_relation(relation.database, relation.schema, relation.identifier) is not none) }}
{%- endmacro %}
