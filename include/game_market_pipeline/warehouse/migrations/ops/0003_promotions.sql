-- Every promotion and rollback of the blue/green warehouse schemas (promotion/swap.py).
CREATE TABLE IF NOT EXISTS {ops}.promotions (
    id                bigserial PRIMARY KEY,
    action            text        NOT NULL CHECK (action IN ('promote', 'rollback')),
    build_id          text        NOT NULL,  -- the build production serves after this action
    previous_build_id text,                  -- the build it replaced (now the previous schema)
    promoted_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    checks_summary    jsonb,                 -- the gate's verdict summary (promote) or the reason (rollback)
    lock_attempts     integer     NOT NULL,
    requested_by      text                   -- DAG run id or user
);
CREATE INDEX IF NOT EXISTS promotions_build_idx ON {ops}.promotions (build_id);
