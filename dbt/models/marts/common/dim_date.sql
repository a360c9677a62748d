{#-
  The calendar, 1940-01-01 .. 2050-12-31. date_key is the YYYYMMDD integer (the one deliberate
  exception to md5 surrogate keys: readable, ordered, and derivable from a date without a lookup).
-#}
select
    {{ date_key('day') }}                              as date_key,
    day::date                                          as date_day,
    extract(year from day)::integer                    as year_number,
    extract(quarter from day)::integer                 as quarter_number,
    extract(month from day)::integer                   as month_number,
    trim(to_char(day, 'Month'))                        as month_name,
    extract(day from day)::integer                     as day_of_month,
    extract(isodow from day)::integer                  as iso_day_of_week,
    trim(to_char(day, 'Day'))                          as day_name,
    extract(week from day)::integer                    as iso_week_number,
    extract(isodow from day) in (6, 7)                 as is_weekend,
    date_trunc('month', day)::date                     as month_start_date
from generate_series(date '1940-01-01', date '2050-12-31', interval '1 day') as calendar(day)
