{#-
  Every trading-card set either API knows, one row per canonical set_code (macros/standardize.sql
  set_code_from_id + seed tcg_set_aliases): from both /sets endpoints and from the set embedded in
  every card (cards can name sets the set lists do not have yet).
  Series: the TCGdex serie when known (set payload or asset URL); else the pokemontcg.io series
  name matched to a TCGdex serie by name_key; else the pokemontcg.io series name's own key.
-#}
{{ config(materialized='table') }}

with tcgdex_sets as (
    -- priority 1: the /sets endpoint; 2: the set embedded in a card (newest card version first)
    select set_code, set_id, set_name, series_id, card_count_official, card_count_total, release_date, logo_url,
           1 as priority, _ingested_at
    from {{ ref('stg_tcgdex__sets') }}
    union all
    select set_code, set_id, set_name, series_id, set_card_count_official, set_card_count_total, null::date, null::text,
           2 as priority, _ingested_at
    from {{ ref('stg_tcgdex__cards') }}
),

tcgdex_one as (
    select distinct on (set_code) *
    from tcgdex_sets
    where set_code is not null
    order by set_code, priority, _ingested_at desc, set_id
),

pokemontcg_sets as (
    select set_code, set_id, set_name, series_name, printed_total, total, ptcgo_code, release_date,
           1 as priority, _ingested_at
    from {{ ref('stg_pokemontcg__sets') }}
    union all
    select set_code, set_id, set_name, series_name, set_printed_total, set_total, set_ptcgo_code, set_release_date,
           2 as priority, _ingested_at
    from {{ ref('stg_pokemontcg__cards') }}
),

pokemontcg_one as (
    select distinct on (set_code) *
    from pokemontcg_sets
    where set_code is not null
    order by set_code, priority, _ingested_at desc, set_id
),

series_by_name as (
    select distinct on ({{ name_key('series_name') }}) {{ name_key('series_name') }} as series_name_key, series_id
    from {{ ref('stg_tcgdex__series') }}
    where series_name is not null
    order by {{ name_key('series_name') }}, series_id
)

select
    coalesce(t.set_code, p.set_code)                                   as set_code,
    t.set_id                                                           as tcgdex_set_id,
    p.set_id                                                           as pokemontcg_set_id,
    coalesce(t.set_name, p.set_name)                                   as set_name,
    coalesce(t.series_id, series_by_name.series_id, {{ name_key('p.series_name') }}) as series_code,
    p.series_name                                                      as pokemontcg_series_name,
    coalesce(p.release_date, t.release_date)                           as release_date,
    coalesce(t.card_count_official, p.printed_total)                   as card_count_official,
    coalesce(t.card_count_total, p.total)                              as card_count_total,
    p.ptcgo_code,
    t.logo_url,
    case
        when t.set_code is not null and p.set_code is not null then 'both'
        when t.set_code is not null then 'tcgdex_only'
        else 'pokemontcg_only'
    end                                                                as match_status
from tcgdex_one as t
full outer join pokemontcg_one as p on p.set_code = t.set_code
left join series_by_name on series_by_name.series_name_key = {{ name_key('p.series_name') }}
