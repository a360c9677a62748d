{#-
  Name standardisation, in SQL so every model applies the same rule (unit-tested in
  models/staging/rawg/_rawg__models.yml and models/intermediate/_intermediate__models.yml).

  standardize_text(x): the display form. Unicode NFKC (full-width letters, ligatures, non-breaking
  and other compatibility spaces become their plain forms), any run of whitespace collapsed to one
  space, trimmed; an empty result is null (an empty name is a missing name).

  name_key(x): the matching form. NFKD with the combining marks removed (é -> e), the gender signs
  spelled out (♀ -> f, ♂ -> m, as PokeAPI slugs do), lower case, everything but letters and digits
  removed. "Mr. Mime", "mr-mime" and "ＭＲ ＭＩＭＥ" share the key "mrmime".
-#}
{% macro standardize_text(expr) -%}
    nullif(btrim(regexp_replace(normalize(cast({{ expr }} as text), NFKC), '[[:space:]]+', ' ', 'g')), '')
{%- endmacro %}

{% macro name_key(expr) -%}
    nullif(
        lower(regexp_replace(
            replace(replace(
                regexp_replace(normalize(cast({{ expr }} as text), NFKD), '[\u0300-\u036f]', '', 'g'),
            '♀', 'f'), '♂', 'm'),
        '[^a-zA-Z0-9]+', '', 'g')),
    '')
{%- endmacro %}

{#- A collector number as both providers can agree on it: "001" -> "1", "H1" and "TG05" kept (upper case). -#}
{% macro card_number_key(expr) -%}
    case
        when {{ standardize_text(expr) }} ~ '^[0-9]+$' then coalesce(nullif(ltrim({{ standardize_text(expr) }}, '0'), ''), '0')
        else upper({{ standardize_text(expr) }})
    end
{%- endmacro %}

{#-
  A set id as both providers can agree on it: lower case, pokemontcg's "pt" decimal point
  (sv3pt5) and TCGdex's "." (sv03.5) dropped, leading zeros of a number removed (sv01 -> sv1).
  Irregular ids are mapped by the tcg_set_aliases seed before this rule applies.
-#}
{% macro set_code_from_id(expr) -%}
    replace(
        regexp_replace(
            regexp_replace(lower(btrim({{ expr }})), '([0-9])pt([0-9])', '\1.\2', 'g'),
        '(^|[^0-9])0+([0-9])', '\1\2', 'g'),
    '.', '')
{%- endmacro %}

{#-
  The Pokémon a trading card is named after, for cards that carry no dex id: the standardised card
  name without the owner ("Team Rocket's ", "Blaine's "), form/print prefixes (Dark, Light,
  Shining, Radiant, Alolan, Galarian, Hisuian, Paldean, Mega, M) and mechanic suffixes (V, VMAX,
  VSTAR, EX/ex, GX, G, LV.X, BREAK, Prime, Star, δ, ◇, LEGEND, TAG TEAM ...).
-#}
{% macro pokemon_name_from_card(expr) -%}
    btrim(regexp_replace(regexp_replace(regexp_replace(
        {{ standardize_text(expr) }},
        '^.*[''’]s[[:space:]]+', ''),
        '^(Dark|Light|Shining|Radiant|Alolan|Galarian|Hisuian|Paldean|Mega|M)[[:space:]]+', ''),
        '([[:space:]]|-)+(V|VMAX|VSTAR|V-UNION|EX|ex|GX|G|LV\.?X|BREAK|Prime|Star|δ|◇|LEGEND|TAG TEAM|C|FB|GL|E4|4)$', ''))
{%- endmacro %}
