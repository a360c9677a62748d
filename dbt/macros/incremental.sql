{#-
  The incremental watermark, taken from the TARGET table itself: max(_ingested_at) of the rows
  already there. The build target alternates between schemas (blue/green write-audit-publish), so
  a target one or two builds behind has an older watermark and catches up from the raw history on
  its own; no state outside the table is consulted. `>=` (not `>`) re-reads the rows of the last
  loaded instant, which the merge makes idempotent, so rows committed by the same load instant
  after the previous build read cannot be skipped.
-#}
{% macro incremental_watermark_filter(column='_ingested_at', watermark_column='_ingested_at') -%}
    {%- if is_incremental() -%}
        {{ column }} >= (select coalesce(max({{ watermark_column }}), '-infinity'::timestamptz) from {{ this }})
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- The latest version per natural key (CONTRACTS.md: greatest _ingested_at, tie-break _content_hash). -#}
{% macro latest_version_order(key='_record_key') -%}
    {{ key }}, _ingested_at desc, _content_hash desc
{%- endmacro %}
