{#-
  A dimension of what games name (developers, genres, platforms, publishers, stores, tags): the
  one body of every dim_<member> model. Members: the /<plural> list (the dimension's main source)
  plus any member a game names that the list lacks.

  Incremental merge on <member>_id, reading: the whole list (small); the members of the games whose
  latest version arrived since this table's recorded watermark; and this table's own rows for the
  members some game still names (bridge_game_<member>). The result is a full build's: the list's
  values win and a listed row arriving later turns a game-only member into a listed one; among the
  games' spellings the least wins; a game-only member that no game names any more is deleted
  (post-hook delete_unreferenced_members). One difference: should the games spell one member
  differently, the least spelling seen is kept after the games that had it change (a full build
  takes the least among the current games). Unchanged rows are not rewritten (`except` this
  table's rows).

  `attributes`: the member's columns that both the list and the games carry, without the
  "<member>_" prefix (name and slug first: the least name wins among the games' spellings).
  `listed_only`: columns only the list has (null for a game-only member), in order.
  Columns come out as: <member>_key, <member>_id, the attributes, listed_only, is_listed.
-#}
{% macro game_member_dim(member, plural, attributes=['name', 'slug'], listed_only=['games_count']) %}
{%- set member_id = member ~ '_id' -%}
{%- set shared = [] -%}
{%- for attribute in attributes -%}{%- do shared.append(member ~ '_' ~ attribute) -%}{%- endfor -%}
{%- set output_columns = [member ~ '_key', member_id] + shared + listed_only + ['is_listed'] -%}
{{ config(
    materialized='incremental',
    unique_key=member_id,
    incremental_strategy='merge',
    on_schema_change='sync_all_columns',
    post_hook=[
        "{{ delete_unreferenced_members(ref('bridge_game_" ~ member ~ "'), ref('int_rawg__game_" ~ plural ~ "'), '"
            ~ member_id ~ "') }}",
        "{{ record_watermark(ref('stg_rawg__games')) }}",
    ],
) }}

with listed as (
    select {{ member_id }}, {{ (shared + listed_only) | join(', ') }}
    from {{ ref('stg_rawg__' ~ plural) }}
),

seen_in_games as (
    select {{ member_id }}, {{ shared | join(', ') }}
    from {{ ref('int_rawg__game_' ~ plural) }}
    where {{ incremental_watermark_filter(watermark_column=none) }}
    {%- if is_incremental() %}
    union all
    -- what earlier builds took from the other games, for the members some game still names
    select known.{{ member_id }}{% for column in shared %}, known.{{ column }}{% endfor %}
    from {{ this }} as known
    where exists (select 1 from {{ ref('bridge_game_' ~ member) }} as bridge
                  where bridge.{{ member_id }} = known.{{ member_id }})
    {%- endif %}
),

from_games as (
    select distinct on ({{ member_id }}) {{ member_id }}, {{ shared | join(', ') }}
    from seen_in_games
    order by {{ member_id }}, {{ member }}_name
),

members as (
    select
        {{ surrogate_key(['coalesce(listed.' ~ member_id ~ ', from_games.' ~ member_id ~ ')']) }} as {{ member }}_key,
        coalesce(listed.{{ member_id }}, from_games.{{ member_id }}) as {{ member_id }},
        {%- for column in shared %}
        coalesce(listed.{{ column }}, from_games.{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for column in listed_only %}
        listed.{{ column }},
        {%- endfor %}
        listed.{{ member_id }} is not null as is_listed
    from listed
    full outer join from_games on from_games.{{ member_id }} = listed.{{ member_id }}
)

select {{ output_columns | join(', ') }}
from members
{%- if is_incremental() %}
except
select {{ output_columns | join(', ') }}
from {{ this }}
{%- endif %}
{% endmacro %}
