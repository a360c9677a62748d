{#- The model has at least one row (a mart that silently empties is a failed build). -#}
{% test not_empty(model) %}
select 1 as no_rows
where not exists (select 1 from {{ model }})
{% endtest %}
