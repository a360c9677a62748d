-- The quality history (quality/store.py). Append-only: re-evaluating a check adds a row.
CREATE TABLE IF NOT EXISTS {ops}.quality_results (
    id            bigserial PRIMARY KEY,
    build_id      text             NOT NULL,
    check_id      text             NOT NULL,  -- stable across builds, e.g. fact_games.null_rate.name
    check_kind    text             NOT NULL,  -- row_count, relative_change, null_rate, unique, ...
    table_name    text             NOT NULL,  -- a model of the build, or raw.<source>__<endpoint>
    column_name   text,
    observed      double precision,           -- NULL: could not be measured (see detail)
    threshold     double precision,
    comparison    text,                       -- '>=' or '<=': passed = observed <comparison> threshold
    severity      text             NOT NULL CHECK (severity IN ('error', 'warn')),
    passed        boolean          NOT NULL,
    detail        text,
    evaluated_at  timestamptz      NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS quality_results_build_idx ON {ops}.quality_results (build_id, check_id, id DESC);
CREATE INDEX IF NOT EXISTS quality_results_check_idx ON {ops}.quality_results (check_id, evaluated_at);

-- The result that counts: the newest evaluation of each check of each build.
CREATE OR REPLACE VIEW {ops}.quality_latest AS
SELECT DISTINCT ON (build_id, check_id) *
FROM {ops}.quality_results
ORDER BY build_id, check_id, id DESC;

-- The gate's decision per build (written when it decides).
CREATE TABLE IF NOT EXISTS {ops}.quality_verdicts (
    id              bigserial PRIMARY KEY,
    build_id        text        NOT NULL,
    verdict         text        NOT NULL CHECK (verdict IN ('passed', 'failed')),
    checks_total    integer     NOT NULL,
    failed_errors   integer     NOT NULL,
    failed_warnings integer     NOT NULL,
    -- failures: one object per failed check (check_id, table, severity, observed, threshold, detail)
    failures        jsonb       NOT NULL,
    decided_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS quality_verdicts_build_idx ON {ops}.quality_verdicts (build_id, id DESC);

-- dbt's run_results.json of each dbt invocation of a build (stored by the Cosmos callback).
CREATE TABLE IF NOT EXISTS {ops}.dbt_run_results (
    id           bigserial PRIMARY KEY,
    build_id     text        NOT NULL,
    task_id      text,
    run_results  jsonb       NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS dbt_run_results_build_idx ON {ops}.dbt_run_results (build_id);
