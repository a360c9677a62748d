"""dbt's own verdicts as quality checks.

Two sources, both per build:
- every dbt invocation's `target/run_results.json`: a Cosmos `callback` (`store_run_results_callback`)
  stores it in `ops.dbt_run_results` when the dbt task ends (on success *and* on failure: Cosmos calls the
  callback before it raises), so it survives the task's temporary directory and works when each task runs in
  its own pod. A per-build target directory (`dbt_target_path`) is read too, for runs outside Cosmos;
- the Airflow states of the build's dbt tasks (`dbt.build`): a model that failed to build, a test task that
  failed, a task that never ran — whatever dbt wrote or not, a build whose dbt tasks did not all succeed
  fails this check. In WATCHER mode the per-node tasks are judged, not the producer's own state (a node
  that failed in the one build and was rebuilt by its task's retry leaves the build complete).

Each dbt test becomes a check `dbt.<test unique_id>`: status `pass` passes; `warn` is a failed `warn` check;
`fail`, `error` and `skipped` are failed `error` checks. A model, seed or snapshot that errored is a failed
`error` check `dbt.<unique_id>`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from game_market_pipeline.config.quality import Severity
from game_market_pipeline.quality.checks import DBT_BUILD_CHECK_ID, CheckKind, CheckResult

log = logging.getLogger(__name__)

_TEST_PREFIXES = ("test.", "unit_test.")
_BUILDABLE_PREFIXES = ("model.", "seed.", "snapshot.")
_OK_TASK_STATES = frozenset({"success", "skipped"})
# Cosmos WATCHER mode: the task running the one `dbt build`, and its skip-absorbing gateway. Their state
# is judged through the per-node tasks (transform.watcher): a node that failed in the build fails its
# own task, whose retry rebuilds it alone; a build whose node tasks all succeeded is complete even
# though the producer's own run failed.
_WATCHER_PRODUCER_TASKS = ("dbt_producer_watcher", "dbt_producer_watcher_done")


def slim_run_results(
    run_results: Mapping[str, Any], manifest: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The part of run_results.json the checks need, each test annotated with the model it tests."""
    nodes = (manifest or {}).get("nodes", {})
    slim = []
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        entry = {k: result.get(k) for k in ("unique_id", "status", "failures", "message")}
        node = nodes.get(unique_id) or {}
        attached = node.get("attached_node") or next(
            (d for d in (node.get("depends_on") or {}).get("nodes", []) if d.startswith("model.")), None
        )
        if attached:
            entry["attached_model"] = attached.rsplit(".", 1)[-1]
        slim.append(entry)
    metadata = run_results.get("metadata") or {}
    return {
        "metadata": {
            "invocation_id": metadata.get("invocation_id"),
            "generated_at": metadata.get("generated_at"),
        },
        "args": {"which": (run_results.get("args") or {}).get("which")},
        "results": slim,
    }


def _model_of(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def checks_from_run_results(documents: Iterable[Mapping[str, Any]]) -> list[CheckResult]:
    """One check per dbt test (and per errored model) over all invocations; a later invocation wins."""
    by_id: dict[str, CheckResult] = {}
    for document in documents:
        for result in document.get("results", []):
            unique_id = str(result.get("unique_id", ""))
            status = str(result.get("status", "")).lower()
            failures = result.get("failures")
            message = (result.get("message") or "")[:500] or None
            if unique_id.startswith(_TEST_PREFIXES):
                table = result.get("attached_model") or "dbt"
                passed = status == "pass"
                severity = Severity.WARN if status == "warn" else Severity.ERROR
                observed = float(failures) if isinstance(failures, int | float) else None
                detail = None if passed else f"dbt status {status}" + (f": {message}" if message else "")
                by_id[unique_id] = CheckResult(
                    f"dbt.{unique_id}",
                    CheckKind.DBT_TEST.value,
                    table,
                    severity,
                    passed,
                    observed,
                    0.0,
                    "<=",
                    None,
                    detail,
                )
            elif unique_id.startswith(_BUILDABLE_PREFIXES) and status in ("error", "skipped"):
                by_id[unique_id] = CheckResult(
                    f"dbt.{unique_id}",
                    CheckKind.DBT_TEST.value,
                    _model_of(unique_id),
                    Severity.ERROR,
                    False,
                    None,
                    None,
                    None,
                    None,
                    f"dbt status {status}" + (f": {message}" if message else ""),
                )
            elif unique_id.startswith(_BUILDABLE_PREFIXES) and unique_id in by_id and status == "success":
                del by_id[unique_id]  # a retry built it after all
    return list(by_id.values())


def dbt_build_check(
    task_states: Mapping[str, str] | None, severity: Severity = Severity.ERROR
) -> CheckResult:
    """`dbt.build`: every dbt task of the build succeeded (observed = number that did not)."""
    if not task_states:
        return CheckResult(
            DBT_BUILD_CHECK_ID,
            CheckKind.DBT_BUILD.value,
            "dbt",
            severity,
            False,
            None,
            0.0,
            "<=",
            None,
            "no dbt task state found for this build",
        )
    node_states = {
        t: s for t, s in task_states.items() if t.rsplit(".", 1)[-1] not in _WATCHER_PRODUCER_TASKS
    }
    judged = node_states or task_states
    bad = sorted(
        f"{task} ({state})" for task, state in judged.items() if str(state).lower() not in _OK_TASK_STATES
    )
    detail = f"{len(judged)} dbt task(s)" + (
        f"; not successful: {', '.join(bad)}" if bad else ", all successful"
    )
    return CheckResult(
        DBT_BUILD_CHECK_ID,
        CheckKind.DBT_BUILD.value,
        "dbt",
        severity,
        not bad,
        float(len(bad)),
        0.0,
        "<=",
        None,
        detail[:2000],
    )


def read_target_dir(path: str | Path) -> list[dict[str, Any]]:
    """Every run_results.json under a per-build dbt target path (with its sibling manifest.json, if any)."""
    root = Path(path)
    documents = []
    for file in sorted(root.glob("**/run_results.json")):
        manifest_file = file.with_name("manifest.json")
        manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else None
        documents.append(slim_run_results(json.loads(file.read_text()), manifest))
    return documents


def store_run_results_callback(project_dir: str, **kwargs: Any) -> None:
    """Cosmos `callback`: store this invocation's run_results.json in `ops.dbt_run_results`.

    Use as `operator_args={"callback": store_run_results_callback, "callback_args": {...}}`; optional
    callback_args: `conn_id` and `ops_schema` (default: the config's warehouse.connection_id and
    warehouse.ops_schema; transform.cosmos_config passes both), `build_id_template` ("{{ run_id }}").
    """
    from game_market_pipeline.quality.store import ensure_quality_tables, record_dbt_run_results
    from game_market_pipeline.warehouse.connection import postgres_connection

    context = kwargs["context"]
    target = Path(project_dir) / "target"
    run_results_file = target / "run_results.json"
    if not run_results_file.is_file():
        log.warning("no run_results.json in %s; nothing to store", target)
        return
    manifest_file = target / "manifest.json"
    manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else None
    document = slim_run_results(json.loads(run_results_file.read_text()), manifest)
    template = kwargs.get("build_id_template") or "{{ run_id }}"
    build_id = str(context["task"].render_template(template, context))
    ops_schema, conn_id = kwargs.get("ops_schema"), kwargs.get("conn_id")
    if not (ops_schema and conn_id):
        from game_market_pipeline.config.loader import load_config_cached
        from game_market_pipeline.config.models import WarehouseConfig

        loaded = load_config_cached()
        warehouse = loaded.config.warehouse if loaded.config else WarehouseConfig()
        ops_schema, conn_id = ops_schema or warehouse.ops_schema, conn_id or warehouse.connection_id
    conn = postgres_connection(conn_id)
    try:
        ensure_quality_tables(conn, ops_schema)
        record_dbt_run_results(conn, build_id, document, context["ti"].task_id, ops_schema)
    finally:
        conn.close()
    log.info("stored %d dbt result(s) of build %s", len(document["results"]), build_id)
