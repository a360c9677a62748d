{#-
  The latest version of each /developers item. The full list is fetched only when its DAG is
  triggered or given a schedule (include/config/endpoints.yaml): until then there is no table, and
  dim_developer holds the developers the game details name.
-#}
with latest as (
    {%- if source_exists('rawg', 'developers') %}
    select distinct on (_record_key) *
    from {{ source('rawg', 'developers') }}
    order by {{ latest_version_order() }}
    {%- else %}
    select null::jsonb as payload, null::text as _record_key, null::text as _content_hash,
           null::timestamptz as _ingested_at
    where false
    {%- endif %}
)

select
    {{ json_integer("payload -> 'id'") }}           as developer_id,
    {{ standardize_text("payload ->> 'name'") }}    as developer_name,
    {{ json_text("payload -> 'slug'") }}            as developer_slug,
    {{ json_integer("payload -> 'games_count'") }}  as games_count,
    _record_key,
    _content_hash,
    _ingested_at
from latest
