{#-
  The latest version of each TCGdex set (the /sets brief: id, name, logo, symbol, cardCount).
  The brief does not name its serie; the set's serie is taken from `serie.id` when the payload has
  it (set details do), else from the asset URL, whose path is /<lang>/<serie>/<set>/...
-#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('tcgdex', 'sets') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_text("payload -> 'id'") }}                                  as set_id,
    {{ set_code_from_id(json_text("payload -> 'id'")) }}                as set_code,
    {{ standardize_text("payload ->> 'name'") }}                        as set_name,
    coalesce(
        lower({{ json_text("payload -> 'serie' -> 'id'") }}),
        lower(substring(coalesce(payload ->> 'logo', payload ->> 'symbol')
                        from '^https?://[^/]+/(?:[a-z]{2}|univ)/([^/]+)/'))
    )                                                                   as series_id,
    {{ json_integer("payload -> 'cardCount' -> 'official'") }}          as card_count_official,
    {{ json_integer("payload -> 'cardCount' -> 'total'") }}             as card_count_total,
    {{ json_date("payload -> 'releaseDate'") }}                         as release_date,
    {{ json_text("payload -> 'logo'") }}                                as logo_url,
    {{ json_text("payload -> 'symbol'") }}                              as symbol_url,
    _record_key,
    _content_hash,
    _ingested_at
from latest
