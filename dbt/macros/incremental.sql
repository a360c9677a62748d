{#-
  The incremental watermark, taken from the TARGET table itself: max(_ingested_at) of the rows
  already there. The build target alternates between schemas (blue/green write-audit-publish), so
  a target one or two builds behind has an older watermark and catches up from the raw history on
  its own; no state outside the table is consulted. `>=` (not `>`) re-reads the rows of the last
  loaded instant, which the merge makes idempotent, so rows committed by the same load instant
  after the previous build read cannot be skipped.

  `watermark_column=none`: the table has no _ingested_at column of its own (the game bridges and
  dims): its watermark is the one recorded on the table itself (recorded_state below).
-#}
{% macro incremental_watermark_filter(column='_ingested_at', watermark_column='_ingested_at') -%}
    {%- if is_incremental() -%}
        {%- if watermark_column -%}
        {{ column }} >= (select coalesce(max({{ watermark_column }}), '-infinity'::timestamptz) from {{ this }})
        {%- else -%}
        {{ column }} >= {{ recorded_state(this, 'watermark') }}
        {%- endif -%}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The latest version per natural key (CONTRACTS.md: greatest _ingested_at, tie-break _content_hash). -#}
{% macro latest_version_order(key='_record_key') -%}
    {{ key }}, _ingested_at desc, _content_hash desc
{%- endmacro %}

{#-
  State recorded ON the table, in its COMMENT (written in the same transaction as its rows, so it
  moves, swaps and rolls back with them; persist_docs is off in this project, nothing else writes
  table comments): "gmp:watermark=<timestamptz> gmp:since=<timestamptz>".
  - watermark: for tables without an _ingested_at column (the game bridges and dims), the greatest
    _ingested_at of the silver table the build read (record_watermark, a post-hook);
  - since: the watermark the table had BEFORE its last build, i.e. the lower bound of what that
    build changed. The data tests of an incremental run check only those rows (macros/test_scope.sql).
  A missing value (new table, full refresh, a table from before this existed) reads -infinity: a
  full read, and full tests. A lost watermark costs time, never rows.
  The value is read when the node runs and written into its SQL as a literal: a value the planner
  cannot see (a subquery) is estimated at a third of the table, which costs a seq scan instead of
  the _ingested_at index and, at 100k games, JIT compilation of every such query.
-#}
{% macro recorded_state(relation, key='watermark') -%}
    {{ timestamptz_literal("select " ~ _recorded_text(relation, key)) }}
{%- endmacro %}

{#-
  The timestamptz text the one-value `query` returns, as a literal (-infinity while parsing). It is
  fetched with a prefix so that the result table keeps it as text (agate would parse it as a date).
-#}
{% macro timestamptz_literal(query) -%}
    {%- set value = '-infinity' -%}
    {%- if execute -%}
        {%- set value = run_query("select 'gmp:' || (" ~ query ~ ")").columns[0].values()[0][4:] -%}
    {%- endif -%}
    '{{ value }}'::timestamptz
{%- endmacro %}

{% macro _recorded_text(relation, key) -%}
    coalesce(substring(obj_description(to_regclass('{{ relation.include(database=false) }}'), 'pg_class')
                       from 'gmp:{{ key }}=(\S+)'), '-infinity')
{%- endmacro %}

{#- A timestamptz as text that round-trips exactly (UTC, microseconds, no spaces); null -> -infinity. -#}
{% macro _state_text(expr) -%}
    coalesce(to_char(({{ expr }}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00"'), '-infinity')
{%- endmacro %}

{#-
  Post-hook of the tables that keep a recorded watermark: watermark = greatest _ingested_at of
  `source_relation` (what this build read from), since = the watermark before this build.
-#}
{% macro record_watermark(source_relation, column='_ingested_at') -%}
do $gmp$ begin
    execute format('comment on table %s is %L', '{{ this.include(database=false) }}',
        'gmp:watermark=' || (select {{ _state_text('max(' ~ column ~ ')') }} from {{ source_relation }})
        || ' gmp:since=' || {{ _recorded_text(this, 'watermark') }});
end $gmp$
{%- endmacro %}

{#-
  Pre-hook of the incremental tables with an _ingested_at watermark column: records `since` (the
  watermark before this build) for the data tests. Nothing on a first build or a full refresh
  (the new table has no comment: since = -infinity).
-#}
{% macro record_since(column='_ingested_at') -%}
{%- if is_incremental() -%}
do $gmp$ begin
    execute format('comment on table %s is %L', '{{ this.include(database=false) }}',
        'gmp:since=' || (select {{ _state_text('max(' ~ column ~ ')') }} from {{ this }}));
end $gmp$
{%- endif -%}
{%- endmacro %}

{#-
  Pre-hook of the game bridges (incremental, append): first delete every row of the games whose
  latest version arrived since this table's watermark, then the build appends their current rows.
  A game that lost an element (or all of them: `stores: []`) loses its rows: a delete+insert keyed
  on the rows the build produces could not see it. `= any(array(...))`, not `in (...)`: the planner
  then probes the (game_id, ...) index instead of hashing a scan of the whole bridge.
-#}
{% macro delete_changed_games(games_relation, key='game_id') -%}
{%- if is_incremental() -%}
delete from {{ this }}
where {{ key }} = any(array(select {{ key }} from {{ games_relation }}
                            where {{ incremental_watermark_filter(watermark_column=none) }}))
{%- endif -%}
{%- endmacro %}

{#-
  Post-hook of the game dims (incremental merge): a member that the endpoint's list does not hold
  and that no game names any more is gone, as in a full build. "Names": a row of its bridge (built
  before the dim), or an element of the games this build read (`elements_relation`, filtered by the
  watermark this build read from: the post-hook runs before record_watermark), so a dim built
  without its bridge (`--select dim_x`) never drops what the new games name.
-#}
{% macro delete_unreferenced_members(bridge_relation, elements_relation, id_column) -%}
{%- if is_incremental() -%}
delete from {{ this }} as dim
where not dim.is_listed
  and not exists (select 1 from {{ bridge_relation }} as bridge where bridge.{{ id_column }} = dim.{{ id_column }})
  and not exists (select 1 from {{ elements_relation }} as element
                  where element.{{ id_column }} = dim.{{ id_column }}
                    and {{ incremental_watermark_filter('element._ingested_at', watermark_column=none) }})
{%- endif -%}
{%- endmacro %}
