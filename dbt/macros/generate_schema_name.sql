{#-
  Everything of one build goes into ONE schema: the target schema (GMP_DBT_SCHEMA, default
  analytics_audit). dbt's default would create `<target>_<custom>` schemas for folders with a
  custom `schema` config; the write-audit-publish promotion swaps whole schemas, so a build must
  never spill into a second one. A custom schema is therefore ignored on purpose.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ target.schema | trim }}
{%- endmacro %}
