{#- Model-level check: rows where `expression` is not true are failures (optionally only `where`). -#}
{% test expression_is_true(model, expression, where_clause=none) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{%- if where_clause %}
  and ({{ where_clause }})
{%- endif %}
{% endtest %}
