{#-
  The data tests of an incremental run check what the build changed, not every row again. A test's
  `where` config may use these placeholders, replaced when the test runs:
    __since__          the tested table's recorded `since` (macros/incremental.sql): its watermark
                       before its last build;
    __games_since__    the `since` of stg_rawg__games, for the views over it (views keep no state);
    __games_watermark__  the watermark of stg_rawg__games (its greatest _ingested_at), for the view
                       of raw game versions it reads: its tests run before stg_rawg__games is built
                       (dbt build and Cosmos run a model's tests before its children), so they
                       check the versions that build is about to read (and the last loaded instant).
                       A `dbt test` run on its own after `dbt run` checks only that last instant;
    __changed_games__  array(select game_id from stg_rawg__games where _ingested_at >= <the tested table's
                       since>): the games whose rows the last build of the tested table replaced
                       (`game_id = any(__changed_games__)` probes the bridge's game_id index).
  A full build (new table, --full-refresh) has since = -infinity: every row is tested.

  Why checking only those rows is enough: the older rows were checked by the build that wrote them,
  and no build rewrites a row without moving it past `since` (merges carry the new _ingested_at,
  bridges replace all rows of a changed game); the grain of stg_rawg__games, fact_games and the
  bridges is a unique index as well, so no later write can duplicate an older row.
  The one case where older rows may never have passed: a write-audit-publish build in an audit
  schema that was REUSED (the build before it there never passed the gate; promotion/swap.py writes
  base = 'reused' into the schema's _wap_build marker). Then every test sees every row again.
-#}
{% macro postgres__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__' in where -%}
        {%- set games = api.Relation.create(database=relation.database, schema=relation.schema,
                                            identifier='stg_rawg__games') -%}
        {%- if '__changed_games__' in where -%}
            {%- set since = tested_since(relation) | trim -%}
            {%- if '-infinity' in since -%}
                {#- Every game: no filter. `= any(array of every game id)` is scanned linearly per row,
                    quadratic at 1M games (a relationships test ran > 16 min, bench/RESULTS.md). -#}
                {%- set where = where | replace('game_id = any(__changed_games__)', 'true') -%}
            {%- endif -%}
            {%- set where = where | replace('__changed_games__',
                'array(select game_id from ' ~ games ~ ' where _ingested_at >= ' ~ since ~ ')') -%}
        {%- endif -%}
        {%- if '__games_since__' in where -%}
            {%- set where = where | replace('__games_since__', tested_since(games)) -%}
        {%- endif -%}
        {%- if '__games_watermark__' in where -%}
            {%- set where = where | replace('__games_watermark__', tested_watermark(games)) -%}
        {%- endif -%}
        {%- if '__since__' in where -%}
            {%- set where = where | replace('__since__', tested_since(relation)) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The lower bound of the rows a test of `relation` checks (see above). -#}
{% macro tested_since(relation) -%}
    {%- if audit_schema_reused(relation.schema) -%}
        '-infinity'::timestamptz
    {%- else -%}
        {{ recorded_state(relation, 'since') }}
    {%- endif -%}
{%- endmacro %}

{% macro tested_watermark(relation, column='_ingested_at') -%}
    {%- if audit_schema_reused(relation.schema)
           or (execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none) -%}
        '-infinity'::timestamptz
    {%- else -%}
        {{ timestamptz_literal(
            "select " ~ _state_text("max(" ~ column ~ ")") ~ " from " ~ relation) }}
    {%- endif -%}
{%- endmacro %}

{% macro audit_schema_reused(schema) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set marker = adapter.get_relation(database=target.database, schema=schema, identifier='_wap_build') -%}
    {%- if marker is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set result = run_query('select base from ' ~ marker ~ ' limit 1') -%}
    {{ return(result.rows | length > 0 and result.rows[0][0] == 'reused') }}
{%- endmacro %}
