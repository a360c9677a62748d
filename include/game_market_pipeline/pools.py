"""`gmp-pools sync`: create or update every Airflow pool the generated DAGs use, from the shared config.

The scheduler never schedules a task whose pool does not exist, and says so only in its own log, so
a fresh cluster without these pools lands no data and alerts no one. The pools are therefore derived
from the same config that generates the DAGs (one pool per API source, `pool_slots` slots) and synced
by the scheduler's init container on every start (helm/values.yaml) and by the local stack.

Pools that the config does not name are left alone: an operator may have made them for other work.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

from game_market_pipeline.config.loader import LoadedConfig, load_config


@dataclass(frozen=True)
class PoolSpec:
    name: str
    slots: int
    description: str


def desired_pools(config: LoadedConfig) -> list[PoolSpec]:
    """One pool per pool name the generated endpoint DAGs use, sorted by name.

    Taken from the endpoints that loaded, so a broken endpoint elsewhere in the file does not stop
    the others' pools from existing. Two endpoints naming one pool with different slots is a config
    error (the pool can only have one size).
    """
    specs: dict[str, PoolSpec] = {}
    for endpoint in config.endpoints:
        spec = PoolSpec(
            name=endpoint.pool,
            slots=endpoint.pool_slots,
            description=f"Concurrent API calls to {endpoint.source} (from {config.path.name})",
        )
        known = specs.setdefault(spec.name, spec)
        if known.slots != spec.slots:
            raise ValueError(
                f"pool {spec.name!r} is declared with {known.slots} and {spec.slots} slots in {config.path}"
            )
    return [specs[name] for name in sorted(specs)]


def sync_pools(specs: list[PoolSpec], dry_run: bool = False) -> list[str]:
    """Create or update each pool in the Airflow metadata DB; return one line per pool."""
    # Airflow's ORM is imported here, not at module import: the config-only paths stay light.
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session

    lines = []
    with create_session() as session:
        for spec in specs:
            existing = Pool.get_pool(spec.name, session=session)
            if existing is None:
                action = "created"
            elif existing.slots != spec.slots or existing.description != spec.description:
                action = f"updated (was {existing.slots} slots)"
            else:
                lines.append(f"unchanged {spec.name} ({spec.slots} slots)")
                continue
            if not dry_run:
                Pool.create_or_update_pool(
                    name=spec.name,
                    slots=spec.slots,
                    description=spec.description,
                    include_deferred=False,
                    session=session,
                )
            lines.append(f"{'would be ' if dry_run else ''}{action} {spec.name} ({spec.slots} slots)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gmp-pools", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="create or update every pool the generated DAGs use")
    sync.add_argument("--config", help="endpoint config file (default: GMP_CONFIG_PATH or the packaged one)")
    sync.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    commands.add_parser("list", help="print the pools the config declares")
    args = parser.parse_args(argv)

    config = load_config(getattr(args, "config", None))
    for problem in config.problems:
        # A broken endpoint does not stop the others' pools; the DAG processor reports it too.
        print(f"warning: {problem}", file=sys.stderr)
    specs = desired_pools(config)
    if not specs:
        print("error: the config declares no loadable endpoint, so no pool to sync", file=sys.stderr)
        return 1
    if args.command == "list":
        for spec in specs:
            print(f"{spec.name}\t{spec.slots}\t{spec.description}")
        return 0
    for line in sync_pools(specs, dry_run=args.dry_run):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
