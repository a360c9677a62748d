-- "This endpoint and date is being fetched by <owner>" (warehouse/leases.py). The owner renews
-- expires_at while it works; a lease whose owner died expires and may be taken over.
CREATE TABLE IF NOT EXISTS {ops}.ingest_leases (
    source       text        NOT NULL,
    endpoint     text        NOT NULL,
    ingest_date  date        NOT NULL,
    owner        text        NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (source, endpoint, ingest_date)
);
