-- The API's own record count against what landed (ingest/count_check.py): a short or long read
-- beyond the endpoint's tolerance is a warning here (count_check short_read|long_read; NULL when
-- the API sends no count), or the status failed_count_mismatch where the config says it is exact.
ALTER TABLE {ops}.ingest_runs
    ADD COLUMN IF NOT EXISTS expected_records integer,
    ADD COLUMN IF NOT EXISTS count_check text;
