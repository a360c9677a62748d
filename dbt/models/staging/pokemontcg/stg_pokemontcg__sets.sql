{#- The latest version of each pokemontcg.io set (dates use slashes: YYYY/MM/DD). -#}
with latest as (
    select distinct on (_record_key) *
    from {{ source('pokemontcg', 'sets') }}
    order by {{ latest_version_order() }}
)

select
    {{ json_text("payload -> 'id'") }}                              as set_id,
    coalesce(set_alias.set_code, {{ set_code_from_id(json_text("payload -> 'id'")) }}) as set_code,
    {{ standardize_text("payload ->> 'name'") }}                    as set_name,
    {{ standardize_text("payload ->> 'series'") }}                  as series_name,
    {{ json_integer("payload -> 'printedTotal'") }}                 as printed_total,
    {{ json_integer("payload -> 'total'") }}                        as total,
    {{ json_text("payload -> 'ptcgoCode'") }}                       as ptcgo_code,
    {{ json_date("payload -> 'releaseDate'") }}                     as release_date,
    {{ json_timestamp("payload -> 'updatedAt'") }}                  as updated_at,
    {{ json_text("payload -> 'images' -> 'logo'") }}                as logo_url,
    {{ json_text("payload -> 'images' -> 'symbol'") }}              as symbol_url,
    latest._record_key,
    latest._content_hash,
    latest._ingested_at
from latest
left join {{ ref('tcg_set_aliases') }} as set_alias
    on set_alias.source_api = 'pokemontcg' and set_alias.provider_set_id = latest.payload ->> 'id'
