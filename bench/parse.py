"""Child process: DAG parse time, each measurement in a fresh interpreter.

- `dagbag`: DagBag fill time of the whole dags/ folder (the dag-processor's view).
- `single`: what a task process does: `_AIRFLOW_PARSING_CONTEXT_DAG_ID=<dag id>` and
  register_endpoint_dags() building only that DAG.
- `single-marginal`: the same build after the imports the ingest task makes anyway when it runs
  (the Amazon provider's S3 hook, for its S3 client; timed apart): the build's marginal cost. The
  first `postgres://` Asset makes Airflow discover every provider's Asset URI handlers, and the
  Amazon one imports that hook (boto3), so `single` counts an import the task pays regardless.
`make-config N OUT`: the real config plus generated RAWG-like endpoints up to N endpoints in all.
GMP_CONFIG_PATH points the loader at a config (set by the caller). The profile in bench/RESULTS.md:

    GMP_CONFIG_PATH=/tmp/500.yaml python -m bench.parse single --cprofile /tmp/single.prof
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench.common import ROOT, emit

S3_HOOK_MODULE = "airflow.providers.amazon.aws.hooks.s3"


def make_config(total: int, out: Path) -> int:
    import yaml

    from game_market_pipeline.config.loader import load_config

    doc = yaml.safe_load((ROOT / "include" / "config" / "endpoints.yaml").read_text())
    existing = len(load_config().endpoints)
    rawg = next(s for s in doc["sources"] if s["name"] == "rawg")
    for i in range(max(0, total - existing)):
        rawg["endpoints"].append(
            {
                "name": f"gen_{i:04d}",
                "path": f"/games/gen{i}",
                "record_model": "rawg.Game",
                "schedule": "@daily",
            }
        )
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return max(total, existing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["dagbag", "single", "single-marginal", "make-config"])
    parser.add_argument("--dag-id", default="ingest__rawg__games")
    parser.add_argument("--endpoints", type=int, default=500)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--cprofile",
        type=Path,
        default=None,
        help="single kinds: print the build's top functions (cumulative) and write its stats here",
    )
    args = parser.parse_args(argv)
    if args.kind == "make-config":
        emit({"endpoints": make_config(args.endpoints, args.out)})
        return 0
    started = time.perf_counter()
    import airflow  # noqa: F401  (the import cost is reported apart from the parse)

    imported = time.perf_counter()
    if args.kind == "dagbag":
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(ROOT / "dags"))
        done = time.perf_counter()
        emit(
            {
                "kind": "dagbag",
                "seconds": done - imported,
                "airflow_import_seconds": imported - started,
                "dags": len(bag.dags),
                "import_errors": {k: v[:300] for k, v in bag.import_errors.items()},
            }
        )
    else:
        task_imports_seconds = 0.0
        build_started = imported
        if args.kind == "single-marginal":
            # What ExtractToBronzeOperator / LoadToStagingOperator import in execute (ingest.connections.s3_client).
            import airflow.providers.amazon.aws.hooks.s3  # noqa: F401

            build_started = time.perf_counter()
            task_imports_seconds = build_started - imported
        # Whether the build itself pulls in the S3 hook (the claim the marginal figure rests on).
        hook_loaded_before = S3_HOOK_MODULE in sys.modules
        os.environ["_AIRFLOW_PARSING_CONTEXT_DAG_ID"] = args.dag_id
        from game_market_pipeline.factory.register import register_endpoint_dags

        namespace: dict = {}
        if args.cprofile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            built = profiler.runcall(register_endpoint_dags, namespace)
            profiler.dump_stats(args.cprofile)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        else:
            built = register_endpoint_dags(namespace)
        done = time.perf_counter()
        emit(
            {
                "kind": args.kind,
                "seconds": done - build_started,
                "airflow_import_seconds": imported - started,
                "task_imports_seconds": task_imports_seconds,
                "dags": built,
                "s3_hook_loaded": {
                    "before_build": hook_loaded_before,
                    "after_build": S3_HOOK_MODULE in sys.modules,
                },
            }
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
