"""Run the warehouse's dbt from the command line (`make dbt-build`), outside Airflow.

The database: `--pg-url`, else $GMP_PG_URL, else the local stack's PostgreSQL (started if needed,
see gmp_dev.local.stack). Its parts reach dbt/profiles.yml as GMP_PG_* environment
variables (the password too: never written to a file); the schema is $GMP_DBT_SCHEMA (default
analytics_audit).

    python -m gmp_dev.run_dbt build
    python -m gmp_dev.run_dbt run --select fact_games
    python -m gmp_dev.run_dbt --print-url
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from urllib.parse import unquote, urlparse

from game_market_pipeline.transform.cosmos_config import target_schema, venv_dbt_executable
from game_market_pipeline.transform.sources import DBT_PROJECT_DIR

PG_URL_ENV = "GMP_PG_URL"
CLI_TARGET_PATH = DBT_PROJECT_DIR / "target" / "cli"


def resolve_pg_url(pg_url: str | None = None) -> str:
    if pg_url or os.environ.get(PG_URL_ENV):
        return pg_url or os.environ[PG_URL_ENV]
    from gmp_dev.local import stack

    if os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB"):
        return stack.postgres_url_from_conn(os.environ["AIRFLOW_CONN_WAREHOUSE_DB"])
    return stack.start_postgres().url  # the local stack's embedded PostgreSQL (started when not running)


def dbt_env(pg_url: str, schema: str | None = None) -> dict[str, str]:
    """dbt/profiles.yml's variables for a postgresql:// URL (the password only ever in the environment);
    the schema is `target_schema(schema)`. The one place a URL becomes dbt's profile (CLI, tests, bench)."""
    parsed = urlparse(pg_url)
    return {
        "GMP_PG_HOST": parsed.hostname or "127.0.0.1",
        "GMP_PG_PORT": str(parsed.port or 5432),
        "GMP_PG_USER": unquote(parsed.username or "postgres"),
        "GMP_PG_PASSWORD": unquote(parsed.password or ""),
        "GMP_PG_DBNAME": parsed.path.lstrip("/") or "postgres",
        "GMP_DBT_SCHEMA": target_schema(schema),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }


def dbt_command(args: list[str], *options: str) -> list[str]:
    """`dbt <args>` on the project, with its profiles.yml, by the dbt of this venv (as Cosmos runs it)."""
    return [
        str(venv_dbt_executable()),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        *options,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-url", help=f"postgresql:// URL (default ${PG_URL_ENV}, else the local stack)")
    parser.add_argument("--schema", help="target schema (default $GMP_DBT_SCHEMA, else analytics_audit)")
    parser.add_argument("--print-url", action="store_true", help="print the database URL and exit")
    args, dbt_args = parser.parse_known_args(argv)
    pg_url = resolve_pg_url(args.pg_url)
    if args.print_url:
        print(pg_url)
        return 0
    command = dbt_command(dbt_args or ["build"])
    if "--target-path" not in dbt_args:
        # never overwrite the committed dbt/target/manifest.json with a local build's
        command += ["--target-path", str(CLI_TARGET_PATH)]
    env = {**os.environ, **dbt_env(pg_url, args.schema)}
    print(f"dbt {' '.join(dbt_args or ['build'])} -> schema {env['GMP_DBT_SCHEMA']}", file=sys.stderr)
    return subprocess.call(command, env=env, cwd=DBT_PROJECT_DIR)


if __name__ == "__main__":
    raise SystemExit(main())
