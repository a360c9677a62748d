-- Records that failed validation, with the reasons, beside the staging tables (ingest/staging.py).
CREATE TABLE IF NOT EXISTS {raw}.quarantine (
    id bigserial PRIMARY KEY,
    source text NOT NULL,
    endpoint text NOT NULL,
    run_id text NOT NULL,
    ingest_date date NOT NULL,
    content_hash text NOT NULL,
    record_key text,
    raw_record jsonb NOT NULL,
    errors jsonb NOT NULL,
    s3_uri text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, endpoint, ingest_date, content_hash)
);
