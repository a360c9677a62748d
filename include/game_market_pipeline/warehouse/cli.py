"""`gmp-warehouse`: apply or list the warehouse migrations (the setup step before any load).

    gmp-warehouse migrate            # apply what is pending (safe to run any number of times, at once)
    gmp-warehouse status             # applied / pending, per migration

The database: `--url`, else `GMP_WAREHOUSE_URL`, else the Airflow connection the config names
(`warehouse.connection_id`, default `warehouse_db`) from its `AIRFLOW_CONN_<ID>` variable (JSON
or URI). Schemas: the config's `warehouse.ops_schema` and `warehouse.raw_schema`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from game_market_pipeline.warehouse.migrate import apply_migrations, status


def warehouse_url(connection_id: str, env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    if env.get("GMP_WAREHOUSE_URL"):
        return env["GMP_WAREHOUSE_URL"]
    variable = f"AIRFLOW_CONN_{connection_id.upper()}"
    value = env.get(variable, "").strip()
    if not value:
        raise SystemExit(
            f"gmp-warehouse: no database given: pass --url, or set GMP_WAREHOUSE_URL or {variable}"
        )
    if value.startswith("{"):
        from game_market_pipeline.warehouse.connection import postgres_url_from_conn

        return postgres_url_from_conn(value)
    return value  # an Airflow URI (postgres://…): libpq reads the same form


def _schemas(config_path: str | None) -> tuple[str, str, str]:
    from game_market_pipeline.config.loader import load_config

    config = load_config(config_path)
    if config.config is None:
        config.raise_for_problems()
    assert config.config is not None
    warehouse = config.config.warehouse
    return warehouse.connection_id, warehouse.ops_schema, warehouse.raw_schema


def connect(url: str) -> Any:
    import psycopg2

    return psycopg2.connect(url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["migrate", "status"])
    parser.add_argument("--url", help="postgresql:// URL of the warehouse")
    parser.add_argument("--config", help="the pipeline config file (default: the packaged endpoints.yaml)")
    args = parser.parse_args(argv)
    connection_id, ops_schema, raw_schema = _schemas(args.config)
    conn = connect(args.url or warehouse_url(connection_id))
    try:
        if args.action == "migrate":
            applied = apply_migrations(conn, ops_schema, raw_schema)
            for migration in applied:
                print(f"applied {migration.label}")
            print(f"{len(applied)} migration(s) applied; the warehouse is current")
        else:
            print("\n".join(status(conn, ops_schema, raw_schema)))
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
