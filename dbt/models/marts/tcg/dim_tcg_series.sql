{#-
  Trading-card series (TCGdex "serie": Base, Sword & Shield, ...). The TCGdex /series list, plus
  any series code a set refers to that the list lacks (pokemontcg.io series names without a TCGdex
  counterpart, e.g. "Other", become their own name_key).
-#}
with listed as (
    select series_id as series_code, series_name, logo_url from {{ ref('stg_tcgdex__series') }}
),

from_sets as (
    select distinct on (series_code) series_code, pokemontcg_series_name
    from {{ ref('int_tcg__sets') }}
    where series_code is not null
    order by series_code, pokemontcg_series_name
)

select
    {{ surrogate_key(['coalesce(listed.series_code, from_sets.series_code)']) }} as series_key,
    coalesce(listed.series_code, from_sets.series_code)                        as series_code,
    coalesce(listed.series_name, from_sets.pokemontcg_series_name, from_sets.series_code) as series_name,
    listed.logo_url,
    listed.series_code is not null                                             as is_listed
from listed
full outer join from_sets on from_sets.series_code = listed.series_code
