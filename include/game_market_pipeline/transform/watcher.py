"""One `dbt build` per DAG run, one task per model: the wiring around Cosmos' ExecutionMode.WATCHER.

Cosmos renders a producer task (`dbt.dbt_producer_watcher`) and one consumer task per seed and model.
`wire_watcher_group()` keeps that rendering (the task per model, its dependencies, its retry that
re-runs the model alone) and replaces what runs in it (the reasons and figures: docs/TRANSFORM.md):

1. The producer is `NodeResultsProducer` (transform.watcher_producer): one `dbt build` of every seed,
   model, test and unit test with dbt's threads, `--quiet`, and its node statuses pushed as ONE XCom
   document (a checkpoint every ~10 s, then the final one) instead of Cosmos' XCom per dbt event.
2. The consumers start once the build has finished: the producer is upstream of every root consumer
   (trigger rule ONE_DONE: the build succeeded or failed, not "never ran"). A consumer then never waits
   on a build still running, so no consumer holds a worker slot, a pod or a triggerer slot while dbt
   works — and `airflow dags test`, which runs tasks one at a time, cannot start a consumer before the
   producer (it would wait forever for a producer that cannot start).
3. A model's (or seed's) task carries its dbt tests too (TestBehavior.NONE, with the `--resource-type`
   filter NONE adds removed, so the build still runs every test): it fails when its model failed or
   was not built (retried: a retry runs `dbt build --select <model>`, that model and its tests alone),
   and fails *without retry* when one of its tests failed (a finding about the data). Its verdict is
   read from the one results document (transform.node_results.judge): one XCom read per task.
4. Under a Kubernetes executor the consumers must not cost a pod each: they start *and end* in the
   triggerer (`start_from_trigger`, `NodeResultsTrigger`): success and retryable failure are decided
   there. Only a retry (try 2+) or a failed test (to fail without retry) comes back to a worker.
5. The run_results.json of the one build reaches the config's `<ops_schema>.dbt_run_results` through
   the producer's callback (quality.dbt_results.store_run_results_callback); a consumer's retry stores its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

# Imported by the transform DAG file (which renders with Cosmos anyway) and by the triggerer.
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.triggers.base import BaseTrigger, TaskFailedEvent, TaskSuccessEvent, TriggerEvent
from cosmos.operators._watcher.base import BaseConsumerSensor
from cosmos.operators._watcher.state import PRODUCER_FINAL_STATES
from cosmos.operators._watcher.triggerer import WatcherTrigger
from cosmos.operators.watcher import DbtRunWatcherOperator, DbtSeedWatcherOperator

from game_market_pipeline.transform.node_results import NODE_RESULTS_XCOM_KEY, RETRIED, Verdict, ended, judge
from game_market_pipeline.transform.watcher_producer import NodeResultsProducer

PRODUCER_TASK_SUFFIX = "dbt_producer_watcher"
# How often a consumer re-reads the results while the build still runs. The build is over when a consumer
# starts, so the first read normally answers; the interval only matters for a consumer cleared mid-build.
CONSUMER_POKE_SECONDS = 2
END_TRIGGER_PATH = "game_market_pipeline.transform.watcher.NodeResultsTrigger"
RETRY_ON_WORKER = "retry_on_worker"


def producer_of(tasks: Iterable[Any]) -> Any | None:
    return next((t for t in tasks if t.task_id.rsplit(".", 1)[-1] == PRODUCER_TASK_SUFFIX), None)


def consumers_of(tasks: Iterable[Any]) -> list[Any]:
    return [t for t in tasks if isinstance(t, BaseConsumerSensor)]


def wire_watcher_group(dbt_group: Any, *, start_from_trigger: bool = True) -> None:
    """Apply points 1-4 of the module docstring to a Cosmos DbtTaskGroup rendered in WATCHER mode."""
    from airflow.sdk import TriggerRule
    from cosmos import settings

    tasks = (
        list(dbt_group.iter_tasks())
        if hasattr(dbt_group, "iter_tasks")
        else list(dbt_group.children.values())
    )
    producer = producer_of(tasks)
    if producer is None:
        raise ValueError(
            f"task group {dbt_group.group_id!r} has no {PRODUCER_TASK_SUFFIX} task: not WATCHER mode"
        )
    if producer.retries:
        raise ValueError(
            f"{producer.task_id}: the watcher producer must have retries=0 (it never re-runs dbt)"
        )
    # Cosmos' Variable backup of the producer's XComs only serves a producer retry, and there is none.
    settings.enable_watcher_reliable_retry = False
    producer.__class__ = NodeResultsProducer  # same state, its own way of publishing results (point 1)
    producer.log_format = None  # dbt's text output (quiet); no JSON event stream to parse
    producer.dbt_cmd_flags = _without_resource_type_filter(producer.dbt_cmd_flags or [])
    in_group = {t.task_id for t in tasks}
    for consumer in consumers_of(tasks):
        if type(consumer) not in NODE_TASKS:
            raise ValueError(f"{consumer.task_id}: unexpected watcher task {type(consumer).__name__}")
        consumer.__class__ = NODE_TASKS[type(consumer)]  # same state, reads the one results document
        consumer.has_tests = bool(producer.tests_per_model.get(consumer.model_unique_id))
        consumer.should_store_compiled_sql = False  # the producer's build has the SQL; no second RTIF write
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


def _trigger_kwargs(consumer: Any) -> dict[str, Any]:
    """What a node's NodeResultsTrigger needs of its task (both ways to start it: from the triggerer, or
    deferred by the task after its first look)."""
    return {
        "model_unique_id": consumer.model_unique_id,
        "producer_task_id": consumer.producer_task_id,
        "dag_id": consumer.dag_id,
        "poke_interval": float(CONSUMER_POKE_SECONDS),
        "has_tests": consumer.has_tests,
    }


def _start_and_end_in_triggerer(consumer: Any) -> None:
    from airflow.triggers.base import StartTriggerArgs

    consumer.start_trigger_args = StartTriggerArgs(
        trigger_cls=END_TRIGGER_PATH,
        # no run_id here: the trigger reads its task instance's (nothing to render, no template field)
        trigger_kwargs=_trigger_kwargs(consumer),
        next_method="execute_complete",
        timeout=None,
    )
    consumer.start_from_trigger = True


def raise_for(verdict: Verdict, model: str, producer_task_id: str) -> None:
    """End a model's task as its verdict says (returns on success)."""
    if verdict is Verdict.SUCCESS:
        return
    where = f"see the {producer_task_id} log and the build's quality results (check ids dbt.*)"
    if verdict is Verdict.TESTS_FAILED:  # a finding about the data: never retried
        raise AirflowFailException(f"dbt tests of {model} failed: {where}")
    if verdict is Verdict.NODE_FAILED:
        raise AirflowException(
            f"dbt could not build {model}, or skipped it after an upstream failure: {where}"
        )
    if verdict is Verdict.NOT_RUN:
        raise AirflowException(
            f"the dbt build ended with no result for {model} (dbt stopped early or the producer died): {where}"
        )
    if verdict is Verdict.TESTS_MISSING:
        raise AirflowException(f"the dbt build ended before the tests of {model} ran: {where}")
    raise AirflowException(f"no result for {model} from the dbt build")


class _NodeResultTask:
    """A model's (seed's) task: its verdict from the producer's results document.

    Try 1 reads the document once (and, only when the build has not said `done`, the producer's state);
    a retry (try 2+) runs `dbt build --select <node>` on the worker: the node and its tests, alone.
    """

    has_tests = False
    base_cmd = ["build"]  # what Cosmos' retry fallback runs for this node
    # Nothing to render: no rendered-fields write per task (one API round trip less for each of ~57 tasks).
    template_fields: tuple[str, ...] = ()

    def execute(self, context: Any, **kwargs: Any) -> None:
        ti = context["ti"]
        if ti.try_number > 1:
            self._fallback_to_non_watcher_run(ti.try_number, context)  # type: ignore[attr-defined]
            return
        if not self.poke(context):
            self.defer(  # type: ignore[attr-defined]
                trigger=NodeResultsTrigger(**_trigger_kwargs(self), run_id=context["run_id"]),
                method_name="execute_complete",
            )

    def poke(self, context: Any) -> bool:
        document = context["ti"].xcom_pull(task_ids=self.producer_task_id, key=NODE_RESULTS_XCOM_KEY)  # type: ignore[attr-defined]
        verdict = judge(document, self.model_unique_id, self.has_tests)  # type: ignore[attr-defined]
        if verdict is Verdict.PENDING:
            if str(self._get_producer_task_status(context)) not in PRODUCER_FINAL_STATES:  # type: ignore[attr-defined]
                return False
            verdict = judge(ended(document), self.model_unique_id, self.has_tests)  # type: ignore[attr-defined]
        raise_for(verdict, self.model_unique_id, self.producer_task_id)  # type: ignore[attr-defined]
        return True

    def execute_complete(self, context: Any, event: dict[str, Any]) -> None:
        if event.get("verdict") == RETRY_ON_WORKER:
            self._fallback_to_non_watcher_run(context["ti"].try_number, context)  # type: ignore[attr-defined]
            return
        raise_for(
            Verdict(event.get("verdict", Verdict.PENDING.value)),
            self.model_unique_id,  # type: ignore[attr-defined]
            self.producer_task_id,  # type: ignore[attr-defined]
        )


class ModelResultWatcherOperator(_NodeResultTask, DbtRunWatcherOperator):
    """A model's task in WATCHER mode: the model and its tests, as built by the producer."""


class SeedResultWatcherOperator(_NodeResultTask, DbtSeedWatcherOperator):
    """A seed's task in WATCHER mode: the seed and its tests, as built by the producer."""


NODE_TASKS = {
    DbtRunWatcherOperator: ModelResultWatcherOperator,
    DbtSeedWatcherOperator: SeedResultWatcherOperator,
}


class NodeResultsTrigger(BaseTrigger):
    """Ends a model's task in the triggerer (no worker, no pod) from the producer's results document.

    Success and retryable failures end the task here; a failed test (fail without retry) and a retry
    (try 2+: the worker re-runs the node alone) go back to a worker through `execute_complete`.
    """

    def __init__(
        self,
        model_unique_id: str,
        producer_task_id: str,
        dag_id: str,
        run_id: str | None = None,
        map_index: int | None = -1,
        poke_interval: float = CONSUMER_POKE_SECONDS,
        has_tests: bool = False,
    ) -> None:
        super().__init__()
        self.model_unique_id, self.producer_task_id = model_unique_id, producer_task_id
        self.dag_id, self.run_id, self.map_index = dag_id, run_id, map_index
        self.poke_interval, self.has_tests = poke_interval, has_tests

    def _reader(self) -> WatcherTrigger:
        """Cosmos' XCom and producer-state readers (the triggerer's API client), reused as they are."""
        run_id = self.run_id or self.task_instance.run_id  # type: ignore[union-attr]  # started from the trigger: its task instance's run
        return WatcherTrigger(
            self.model_unique_id,
            self.producer_task_id,
            self.dag_id,
            run_id,
            self.map_index,
            self.poke_interval,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return END_TRIGGER_PATH, {
            "model_unique_id": self.model_unique_id,
            "producer_task_id": self.producer_task_id,
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "map_index": self.map_index,
            "poke_interval": self.poke_interval,
            "has_tests": self.has_tests,
        }

    async def verdict(self) -> Verdict:
        import asyncio

        reader = self._reader()
        while True:
            document = await reader.get_xcom_val(NODE_RESULTS_XCOM_KEY)
            verdict = judge(document, self.model_unique_id, self.has_tests)
            if verdict is not Verdict.PENDING:
                return verdict
            if str(await reader._get_producer_task_status()) in PRODUCER_FINAL_STATES:
                return judge(ended(document), self.model_unique_id, self.has_tests)
            await asyncio.sleep(self.poke_interval)

    async def run(self) -> AsyncIterator[Any]:
        if int(getattr(self.task_instance, "try_number", 1) or 1) > 1:
            yield TriggerEvent({"verdict": RETRY_ON_WORKER})
            return
        verdict = await self.verdict()
        if verdict is Verdict.SUCCESS:
            yield TaskSuccessEvent()
        elif verdict in RETRIED:
            self.log.error(
                "dbt node %s: %s (see the dbt.%s task's log)",
                self.model_unique_id,
                verdict.value,
                PRODUCER_TASK_SUFFIX,
            )
            yield TaskFailedEvent()
        else:  # failed tests: the worker fails the task without retry
            yield TriggerEvent({"verdict": verdict.value})
