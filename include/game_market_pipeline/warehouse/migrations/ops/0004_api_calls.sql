-- HTTP attempts per API source and UTC day, retries and killed attempts included
-- (warehouse/call_counter.py). Counted before they are made, in small reserved blocks.
CREATE TABLE IF NOT EXISTS {ops}.api_calls (
    source      text    NOT NULL,
    day         date    NOT NULL,
    calls       bigint  NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, day)
);

-- The same attempts per endpoint and ingest date, summed over every attempt of that date:
-- ops.ingest_runs.api_calls is taken from here.
CREATE TABLE IF NOT EXISTS {ops}.ingest_calls (
    source       text    NOT NULL,
    endpoint     text    NOT NULL,
    ingest_date  date    NOT NULL,
    calls        bigint  NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, endpoint, ingest_date)
);
