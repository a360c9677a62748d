"""The one `dbt build`'s results as ONE XCom document, and each model task's verdict read from it.

The producer (transform.watcher_producer) collects dbt's NodeFinished events into a `NodeResults` and
pushes its `document()` under `NODE_RESULTS_XCOM_KEY`: every ~10 s while dbt runs (a checkpoint, so a
consumer cleared during a long build still sees progress) and once, `done`, when the build has ended.
A model's (or seed's) task reads that one document (`judge`): one XCom read per task instead of Cosmos'
three to five per node, and the producer pushes a handful of XComs per build instead of one per dbt event.

    {"done": true, "nodes": {"model.game_market.fact_games": "error", ...},     # models, seeds, snapshots
     "tests": {"model.game_market.fact_games": "pass", ...}}                   # per model: its tests' verdict

A model's tests verdict: `fail` when one of its tests failed or errored; `pass` when every one passed,
warned, or was skipped (a test dbt skipped because *another* of its parents failed does not fail this
model: that parent's task fails, and the skipped test still reaches ops.quality_results as a failed check,
so the gate blocks); absent while some have not reported.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

NODE_RESULTS_XCOM_KEY = "dbt_node_results"
BUILDABLE_PREFIXES = ("model.", "seed.", "snapshot.")
NODE_SUCCESS = frozenset({"success", "pass"})
TEST_FAILED = frozenset({"fail", "error", "runtime error"})


class Verdict(StrEnum):
    """What a model's task does with the build's result for its model."""

    SUCCESS = "success"  # built, and its tests passed
    # NODE_FAILED: dbt could not build it, or skipped it after an upstream failure; NOT_RUN: the build
    # ended with no result for it (dbt stopped early, the producer died). Both are retried.
    NODE_FAILED = "node_failed"
    NOT_RUN = "not_run"
    TESTS_MISSING = "tests_missing"  # built, but the build ended before its tests ran: retried
    TESTS_FAILED = "tests_failed"  # built, a test found bad data: fails without retry
    PENDING = "pending"  # the build has not reported it yet


RETRIED = frozenset({Verdict.NODE_FAILED, Verdict.NOT_RUN, Verdict.TESTS_MISSING})


class NodeResults:
    """Thread-safe collector of one build's node statuses (dbt calls back from its worker threads)."""

    def __init__(self, tests_per_model: Mapping[str, list[str]] | None = None):
        self.tests_per_model = {m: list(t) for m, t in (tests_per_model or {}).items() if t}
        self._test_ids = {test for tests in self.tests_per_model.values() for test in tests}
        self._nodes: dict[str, str] = {}
        self._tests: dict[str, str] = {}
        self._lock = threading.Lock()
        self.finished = 0

    def record(self, unique_id: str, status: str) -> None:
        with self._lock:
            self.finished += 1
            if unique_id.startswith(BUILDABLE_PREFIXES):
                self._nodes[unique_id] = status
            if unique_id in self._test_ids:
                self._tests[unique_id] = status

    def tests_verdict(self, model: str) -> str | None:
        statuses = [self._tests.get(t) for t in self.tests_per_model.get(model, [])]
        if any(s in TEST_FAILED for s in statuses):
            return "fail"
        return "pass" if all(statuses) else None

    def document(self, done: bool) -> dict[str, Any]:
        with self._lock:
            tests = {m: v for m in self.tests_per_model if (v := self.tests_verdict(m))}
            return {"done": done, "nodes": dict(self._nodes), "tests": tests}


def judge(document: Mapping[str, Any] | None, model: str, has_tests: bool) -> Verdict:
    """A model's verdict from the build's results document (None: nothing pushed yet)."""
    if not document:
        return Verdict.PENDING
    done = bool(document.get("done"))
    status = (document.get("nodes") or {}).get(model)
    if status is None:
        return Verdict.NOT_RUN if done else Verdict.PENDING
    if status not in NODE_SUCCESS:
        return Verdict.NODE_FAILED  # error, or skipped because an upstream node failed
    if not has_tests:
        return Verdict.SUCCESS
    tests = (document.get("tests") or {}).get(model)
    if tests == "fail":
        return Verdict.TESTS_FAILED
    if tests == "pass":
        return Verdict.SUCCESS
    return Verdict.TESTS_MISSING if done else Verdict.PENDING


def ended(document: Mapping[str, Any] | None) -> dict[str, Any]:
    """The document as final: the producer ended (failed, killed) without pushing `done`."""
    return {**(document or {}), "done": True}
