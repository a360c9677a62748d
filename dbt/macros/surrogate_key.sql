{#-
  Surrogate key = md5 over the natural key parts, null-safe and unambiguous:
  each part is cast to text, a null becomes a marker that no real value has, parts are joined
  with a separator. surrogate_key(['a', 'b']) is stable across builds and schemas, so incremental
  facts built yesterday and dims rebuilt today agree on every key.
-#}
{% macro surrogate_key(parts) -%}
    {%- if parts is string %}{% set parts = [parts] %}{% endif -%}
    md5(
    {%- for part in parts %}
        coalesce(cast({{ part }} as text), '<gmp-null>'){% if not loop.last %} || '|' ||{% endif %}
    {%- endfor %}
    )
{%- endmacro %}
