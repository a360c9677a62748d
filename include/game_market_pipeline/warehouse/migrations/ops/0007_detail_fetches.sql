-- Detail fan-out bookkeeping (ingest/details.py): which list version of a record its detail was
-- fetched for, so an unchanged record never costs a detail call again. Written by the load, in the
-- same transaction as the details themselves.
CREATE TABLE IF NOT EXISTS {ops}.detail_fetches (
    source text NOT NULL,
    endpoint text NOT NULL,
    record_key text NOT NULL,
    parent_hash text NOT NULL,
    outcome text NOT NULL,
    ingest_date date NOT NULL,
    run_id text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, endpoint, record_key)
);
