{#- Trading-card sets, one per canonical set code, matched across TCGdex and pokemontcg.io (int_tcg__sets). -#}
select
    {{ surrogate_key(['set_code']) }}                                          as set_key,
    set_code,
    tcgdex_set_id,
    pokemontcg_set_id,
    set_name,
    case when series_code is not null then {{ surrogate_key(['series_code']) }} end as series_key,
    release_date,
    {{ date_key('release_date') }}                                             as release_date_key,
    card_count_official,
    card_count_total,
    ptcgo_code,
    logo_url,
    match_status
from {{ ref('int_tcg__sets') }}
