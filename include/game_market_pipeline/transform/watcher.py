"""One `dbt build` per DAG run, one task per model: the wiring around Cosmos' ExecutionMode.WATCHER.

Cosmos renders a producer task (`dbt.dbt_producer_watcher`: one `dbt build` of the whole project with
dbt's threads, each node's status pushed to XCom as it finishes) and one consumer task per seed and
model, which only reads its node's status. `wire_watcher_group()` adjusts that rendering for
this project (the reasons are in docs/TRANSFORM.md):

1. The consumers start once the build has finished: the producer is upstream of every root consumer
   (trigger rule ONE_DONE: the build succeeded or failed, not "never ran"). A consumer then never waits
   on a build still running, so no consumer holds a worker slot, a pod or a triggerer slot while dbt
   works — and `airflow dags test`, which runs tasks one at a time, cannot start a consumer before the
   producer (it would wait forever for a producer that cannot start).
2. A model's (or seed's) task carries its dbt tests too: the producer's `dbt build` runs every test,
   the producer publishes a verdict per model (a test of several models counts for each), and the
   model's task fails when one of its tests fails — without retry: a failed test is a finding about the data
   (TestVerdicts: a test skipped because another of its parents failed does not count). Cosmos'
   own test tasks (TestBehavior.AFTER_EACH: ~86 more task instances, each a scheduling round trip and
   under Kubernetes a pod start) are not rendered (TestBehavior.NONE, with the producer's
   `--resource-type` filter that NONE adds removed, so the build still runs the tests).
3. Under a Kubernetes executor the consumers must not cost a pod each: they start *and end* in the
   triggerer (`start_from_trigger`, `WatcherEndTrigger`): success, failure and skip are decided there.
   Only a retry (try 2+) or a failed test comes back to a worker; a retry runs
   `dbt build --select <node>` (that node and its tests, alone): it re-runs what failed, not the project.
4. The producer publishes what the consumers read, and no more. Cosmos pushes an XCom for each of
   dbt's NodeStart/NodeCompiling/NodeExecuting events (3 of the ~5 pushes per node, nobody reads them
   once the node has finished) and, with `enable_watcher_reliable_retry`, rewrites an Airflow Variable
   holding *every* XCom so far after each push (quadratic; it only serves a producer retry, and the
   producer has none). With both, the producer's `dbt build` of the local data took 190 s; without
   them, 34-60 s beside a bare build of 39-41 s (docs/TRANSFORM.md).
5. The run_results.json of the one build reaches `ops.dbt_run_results` through the producer's
   callback (quality.dbt_results.store_run_results_callback); a consumer's retry stores its own.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

# Imported by the transform DAG file (which renders with Cosmos anyway) and by the triggerer.
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent, TriggerEvent
from cosmos.listeners.dag_run_listener import EventStatus
from cosmos.operators._watcher.base import BaseConsumerSensor
from cosmos.operators._watcher.state import PRODUCER_FINAL_STATES, get_xcom_val, safe_xcom_push
from cosmos.operators._watcher.triggerer import WatcherEventReason, WatcherTrigger
from cosmos.operators.watcher import DbtRunWatcherOperator, DbtSeedWatcherOperator

PRODUCER_TASK_SUFFIX = "dbt_producer_watcher"
# How often a consumer reads its node's status. The build is over when a consumer starts, so the first
# read normally answers; the interval only matters for a consumer cleared while a build runs.
CONSUMER_POKE_SECONDS = 2
END_TRIGGER_PATH = "game_market_pipeline.transform.watcher.WatcherEndTrigger"
# dbt events whose XCom no consumer needs: the node's NodeFinished event carries its start and end time.
UNREAD_NODE_EVENTS = frozenset({"NodeStart", "NodeCompiling", "NodeExecuting"})


def producer_of(tasks: Iterable[Any]) -> Any | None:
    return next((t for t in tasks if t.task_id.rsplit(".", 1)[-1] == PRODUCER_TASK_SUFFIX), None)


def consumers_of(tasks: Iterable[Any]) -> list[Any]:
    return [t for t in tasks if isinstance(t, BaseConsumerSensor)]


def wire_watcher_group(dbt_group: Any, *, start_from_trigger: bool = True) -> None:
    """Apply points 1-4 of the module docstring to a Cosmos DbtTaskGroup rendered in WATCHER mode."""
    from airflow.sdk import TriggerRule

    tasks = list(dbt_group.iter_tasks()) if hasattr(dbt_group, "iter_tasks") else list(dbt_group.children.values())
    producer = producer_of(tasks)
    if producer is None:
        raise ValueError(f"task group {dbt_group.group_id!r} has no {PRODUCER_TASK_SUFFIX} task: not WATCHER mode")
    _publish_only_what_consumers_read(producer)
    producer.dbt_cmd_flags = _without_resource_type_filter(producer.dbt_cmd_flags or [])
    consumers = consumers_of(tasks)
    in_group = {t.task_id for t in tasks}
    for consumer in consumers:
        if type(consumer) not in WITH_TESTS:
            raise ValueError(f"{consumer.task_id}: unexpected watcher task {type(consumer).__name__}")
        consumer.__class__ = WITH_TESTS[type(consumer)]  # same state, + the tests' verdict (point 2)
        consumer.has_tests = bool(producer.tests_per_model.get(consumer.model_unique_id))
        consumer.poke_interval = CONSUMER_POKE_SECONDS
        if not (consumer.upstream_task_ids & in_group):
            producer >> consumer
            consumer.trigger_rule = TriggerRule.ONE_DONE
        if start_from_trigger:
            _start_and_end_in_triggerer(consumer)


def _without_resource_type_filter(flags: list[str]) -> list[str]:
    """The producer's dbt flags without `--resource-type X` (TestBehavior.NONE's way to leave tests out)."""
    kept, skip = [], False
    for flag in flags:
        if skip:
            skip = False
        elif flag == "--resource-type":
            skip = True
        else:
            kept.append(flag)
    return kept


def _publish_only_what_consumers_read(producer: Any) -> None:
    """Point 4 of the module docstring (instance attributes: the worker builds the task from this file)."""
    from cosmos import settings

    if producer.retries:
        raise ValueError(f"{producer.task_id}: the watcher producer must have retries=0 (it never re-runs dbt)")
    # Read by the producer when it runs, in the process that parsed this DAG: no Variable backup.
    settings.enable_watcher_reliable_retry = False
    make_parse_callable = producer._make_parse_callable

    def lean_parse_callable() -> Callable[[str, Any], None]:
        parse = make_parse_callable()

        verdicts = TestVerdicts(getattr(producer, "tests_per_model", {}) or {})

        def parse_unless_unread(line: str, extra_kwargs: Any) -> None:
            try:
                event = json.loads(line)
                name = (event.get("info") or {}).get("name")
            except (ValueError, AttributeError):
                event, name = None, None
            if name == "NodeFinished":
                context = (extra_kwargs or {}).get("context") or {}
                verdicts.record(event, context.get("ti"))
            if name not in UNREAD_NODE_EVENTS:
                parse(line, extra_kwargs)

        return parse_unless_unread

    producer._make_parse_callable = lean_parse_callable


def tests_verdict_xcom_key(model_unique_id: str) -> str:
    return f"{model_unique_id.replace('.', '__')}_tests_verdict"


class TestVerdicts:
    """Per model, the verdict of its dbt tests in the producer's build, pushed to XCom when all reported.

    `fail` when one of them failed or errored; `pass` otherwise — a test dbt skipped because *another*
    of its parents failed does not fail this model (that parent's task fails; the skipped test still
    reaches ops.quality_results as a failed check, so the gate blocks). Cosmos' own aggregate counts a
    skipped test as a failure, which failed every model sharing a relationships test with a failed one.
    """

    __test__ = False  # not a pytest class

    def __init__(self, tests_per_model: dict[str, list[str]]):
        self.tests_per_model = tests_per_model
        self.models_of: dict[str, list[str]] = {}
        for model, tests in tests_per_model.items():
            for test in tests:
                self.models_of.setdefault(test, []).append(model)
        self.statuses: dict[str, str] = {}
        self.lock = threading.Lock()

    def record(self, event: dict[str, Any], ti: Any) -> None:
        node = ((event.get("data") or {}).get("node_info")) or {}
        test, status = node.get("unique_id"), str(node.get("node_status") or "")
        if test not in self.models_of or not status:
            return
        with self.lock:
            self.statuses[test] = status
            ready = [(m, self.verdict(m)) for m in self.models_of[test]]
        for model, verdict in ready:
            if verdict and ti is not None:
                safe_xcom_push(task_instance=ti, key=tests_verdict_xcom_key(model), value=verdict)

    def verdict(self, model: str) -> str | None:
        statuses = [self.statuses.get(t) for t in self.tests_per_model.get(model, [])]
        if any(s in ("fail", "error", "runtime error") for s in statuses):
            return "fail"
        return "pass" if all(statuses) else None


def _start_and_end_in_triggerer(consumer: Any) -> None:
    from airflow.triggers.base import StartTriggerArgs

    consumer.start_trigger_args = StartTriggerArgs(
        trigger_cls=END_TRIGGER_PATH,
        trigger_kwargs={
            "model_unique_id": consumer.model_unique_id,
            "producer_task_id": consumer.producer_task_id,
            "dag_id": consumer.dag_id,
            "run_id": "{{ run_id }}",  # rendered by the triggerer (run_id is a template field below)
            "map_index": -1,
            "poke_interval": float(CONSUMER_POKE_SECONDS),
            "is_test_sensor": False,
            "has_tests": consumer.has_tests,
        },
        next_method="execute_complete",
        timeout=None,
    )
    consumer.start_from_trigger = True
    consumer.run_id = "{{ run_id }}"
    if "run_id" not in consumer.template_fields:
        consumer.template_fields = (*consumer.template_fields, "run_id")


TESTS_FAILED_REASON = "tests_failed"


def tests_verdict(tests_status: str | None, producer_state: str | None) -> str | None:
    """A model's tests from the producer's aggregate: `pass`, `fail`, or None while they may still report.

    `missing` when the build ended without reporting them (it stopped before they ran): the model's task
    then fails like a model that did not build, and its retry builds the model with its tests.
    """
    if tests_status in ("pass", "fail"):
        return tests_status
    if producer_state in PRODUCER_FINAL_STATES:
        return "missing"
    return None


class _WithTests:
    """The node's task succeeds when the node *and* its dbt tests succeeded in the producer's build.

    A retry (try 2+) runs `dbt build --select <node>` on the worker: the node and its tests, alone.
    """

    has_tests = False
    base_cmd = ["build"]  # what Cosmos' retry fallback runs for this node

    def poke(self, context: Any) -> bool:
        if not super().poke(context):  # type: ignore[misc]
            return False
        if context["ti"].try_number > 1 or not self.has_tests:
            return True  # a retry built the node with its tests (`dbt build --select`)
        status = get_xcom_val(context["ti"], self.producer_task_id, tests_verdict_xcom_key(self.model_unique_id))
        return self._judge_tests(tests_verdict(status, self._get_producer_task_status(context)))

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("reason") == TESTS_FAILED_REASON:
            self._judge_tests(event.get("tests"))
        super().execute_complete(context, event)  # type: ignore[misc]

    def _judge_tests(self, verdict: str | None) -> bool:
        if verdict == "fail":
            raise AirflowFailException(  # a finding about the data: never retried
                f"dbt tests of {self.model_unique_id} failed: see the {self.producer_task_id} log and "
                "ops.quality_results (check ids dbt.test.*)")
        if verdict == "missing":
            raise AirflowException(f"the dbt build ended before the tests of {self.model_unique_id} ran")
        return verdict == "pass"


class ModelWithTestsWatcherOperator(_WithTests, DbtRunWatcherOperator):
    """A model's task in WATCHER mode: the model and its tests, as built by the producer."""


class SeedWithTestsWatcherOperator(_WithTests, DbtSeedWatcherOperator):
    """A seed's task in WATCHER mode: the seed and its tests, as built by the producer."""


WITH_TESTS = {DbtRunWatcherOperator: ModelWithTestsWatcherOperator,
              DbtSeedWatcherOperator: SeedWithTestsWatcherOperator}


class WatcherEndTrigger(WatcherTrigger):
    """Cosmos' WatcherTrigger that ends the consumer task in the triggerer (no worker, no pod).

    Cosmos' trigger hands its verdict back to a worker (`execute_complete`); this one turns it into the
    task's end state. A retry (try 2+) or a producer skipped by a retry still goes back to a worker:
    there Cosmos re-runs the node alone.
    """

    def __init__(self, *args: Any, has_tests: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_tests = has_tests

    def serialize(self) -> tuple[str, dict[str, Any]]:
        _, kwargs = super().serialize()
        return END_TRIGGER_PATH, {**kwargs, "has_tests": self.has_tests}

    async def _tests_verdict(self) -> str:
        while True:
            status = await self.get_xcom_val(tests_verdict_xcom_key(self.model_unique_id))
            verdict = tests_verdict(status, await self._get_producer_task_status())
            if verdict:
                return verdict
            await asyncio.sleep(self.poke_interval)

    def _try_number(self) -> int:
        return int(getattr(self.task_instance, "try_number", 1) or 1)

    async def run(self) -> AsyncIterator[Any]:
        if self._try_number() > 1:
            # A retry: the worker re-runs this node alone (BaseConsumerSensor._handle_retry).
            yield TriggerEvent({"status": EventStatus.FAILED, "reason": WatcherEventReason.PRODUCER_SKIPPED})
            return
        async for event in super().run():
            payload = event.payload if isinstance(event.payload, dict) else {}
            status, reason = payload.get("status"), payload.get("reason")
            if status == EventStatus.SUCCESS:
                verdict = await self._tests_verdict() if self.has_tests else "pass"
                if verdict == "pass":
                    yield TaskSuccessEvent()
                elif verdict == "missing":
                    yield TaskFailedEvent()  # retried: the retry builds the node with its tests
                else:  # failed tests: the worker fails the task without retry
                    yield TriggerEvent({"status": EventStatus.FAILED, "reason": TESTS_FAILED_REASON,
                                        "tests": verdict})
            elif status == EventStatus.SKIPPED:
                yield TaskSkippedEvent()
            elif reason == WatcherEventReason.PRODUCER_SKIPPED:
                yield event  # the worker runs the node itself
            else:
                self.log.error("dbt node %s: %s (see the dbt.%s task's log)", self.model_unique_id,
                               reason, PRODUCER_TASK_SUFFIX)
                yield TaskFailedEvent()
            return
