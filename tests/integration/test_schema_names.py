"""A warehouse with non-default schema names: the migrations, an extract and a load use only the
configured ones (warehouse.raw_schema / ops_schema), and the default `raw`/`ops` never appear."""

from __future__ import annotations

import pytest
import yaml

from game_market_pipeline.config.loader import DEFAULT_CONFIG_PATH, parse_config
from game_market_pipeline.warehouse.migrate import status
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS, WarehouseSchemas

pytestmark = pytest.mark.integration


def test_an_extract_and_load_use_only_the_configured_schemas(harness):
    raw = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    raw["warehouse"].update(raw_schema="landing", ops_schema="pipeline_ops")
    harness.config = parse_config(raw, DEFAULT_CONFIG_PATH)
    assert harness.config.problems == ()
    schemas = WarehouseSchemas.from_config(harness.config)

    extracted, loaded = harness.run(harness.endpoint("rawg", "genres"))

    assert loaded.records > 0
    rows = harness.query('SELECT count(*) FROM landing."rawg__genres"')[0][0]
    assert rows == loaded.records - loaded.quarantined
    present = {name for (name,) in harness.query("SELECT nspname FROM pg_namespace")}
    assert {schemas.raw, schemas.ops} <= present
    assert not {DEFAULT_SCHEMAS.raw, DEFAULT_SCHEMAS.ops} & present
    # The run, its API calls and the migrations are recorded in the configured ops schema.
    runs = harness.query("SELECT status, records FROM pipeline_ops.ingest_runs WHERE endpoint = 'genres'")
    assert runs and runs[-1][1] == extracted.records
    assert harness.query("SELECT sum(calls) FROM pipeline_ops.api_calls")[0][0] == extracted.api_calls
    conn = harness.connect()
    try:
        assert status(conn, schemas.ops, schemas.raw)  # the versions applied, read back from pipeline_ops
    finally:
        conn.close()
