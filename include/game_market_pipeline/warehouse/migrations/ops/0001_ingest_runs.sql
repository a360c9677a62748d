-- One row per load attempt of an endpoint and date (written by ingest/staging.py).
-- IF NOT EXISTS: adopts the table that loads created before migrations existed.
CREATE TABLE IF NOT EXISTS {ops}.ingest_runs (
    id bigserial PRIMARY KEY,
    run_id text NOT NULL,
    source text NOT NULL,
    endpoint text NOT NULL,
    ingest_date date NOT NULL,
    status text NOT NULL,
    pages integer NOT NULL DEFAULT 0,
    records integer NOT NULL DEFAULT 0,
    loaded integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    quarantine_rate double precision NOT NULL DEFAULT 0,
    drift_fields jsonb NOT NULL DEFAULT '{}',
    api_calls integer NOT NULL DEFAULT 0,
    duration_seconds double precision,
    started_at timestamptz,
    finished_at timestamptz NOT NULL DEFAULT now(),
    manifest_uri text,
    message text
);
CREATE INDEX IF NOT EXISTS ingest_runs_endpoint_date ON {ops}.ingest_runs (source, endpoint, ingest_date);
