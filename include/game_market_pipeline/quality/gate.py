"""The data-quality gate: a sensor that waits for every check of a build, then lets it through or stops it.

`mode="reschedule"`: between pokes the sensor frees its worker slot (the task is UP_FOR_RESCHEDULE), so a
slow check producer costs no slot. Each poke reads the newest result of every expected check from
`ops.quality_latest`:
- a check has no result yet → not done, poke again later;
- all results present, an `error` check failed → `AirflowFailException` (no retry: the data will not change
  by retrying) naming each failed check with its observed value and threshold;
- all present, no `error` failed → success; failed `warn` checks are sent to the alert notifier.
Either decision is recorded in `ops.quality_verdicts`. Results still missing when the timeout is near fail
the gate too, naming the missing checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException

from game_market_pipeline.quality.notifier import QualityAlertNotifier
from game_market_pipeline.warehouse.schemas import DEFAULT_SCHEMAS


class QualityGateSensor(BaseSensorOperator):
    template_fields: Sequence[str] = ("build_id",)
    ui_color = "#f0e4ec"

    def __init__(
        self,
        *,
        build_id: str,
        expected_check_ids: Sequence[str],
        conn_id: str = "warehouse_db",
        ops_schema: str = DEFAULT_SCHEMAS.ops,
        warning_notifier: QualityAlertNotifier | None = None,
        mode: str = "reschedule",
        **kwargs: Any,
    ) -> None:
        super().__init__(mode=mode, **kwargs)
        self.build_id = build_id
        self.expected_check_ids = tuple(expected_check_ids)
        self.conn_id = conn_id
        self.ops_schema = ops_schema
        self.warning_notifier = warning_notifier

    def _connect(self) -> Any:
        # psycopg2, whatever driver PostgresHook would pick (the quality SQL is built with psycopg2.sql).
        from game_market_pipeline.warehouse.connection import postgres_connection

        return postgres_connection(self.conn_id)

    def _waited_seconds(self, context: Any) -> float:
        ti = context["ti"]
        first = ti.get_first_reschedule_date(context) if self.reschedule else None
        start = first or getattr(ti, "start_date", None)
        return (datetime.now(UTC) - start).total_seconds() if start else 0.0

    def poke(self, context: Any) -> bool | PokeReturnValue:
        from game_market_pipeline.quality.store import build_verdict, ensure_quality_tables, record_verdict

        conn = self._connect()
        try:
            ensure_quality_tables(conn, self.ops_schema)
            verdict = build_verdict(conn, self.build_id, self.expected_check_ids, self.ops_schema)
            if not verdict.complete:
                self.log.info(
                    "build %s: %d of %d expected check(s) have no result yet: %s",
                    self.build_id,
                    len(verdict.missing),
                    len(self.expected_check_ids),
                    ", ".join(verdict.missing[:20]),
                )
                if self._waited_seconds(context) + self.poke_interval >= self.timeout:
                    raise AirflowFailException(
                        f"quality gate for build {self.build_id}: {len(verdict.missing)} check(s) still "
                        "without a "
                        f"result at the timeout ({self.timeout:g}s): {', '.join(verdict.missing)}"
                    )
                return False
            record_verdict(conn, verdict, self.ops_schema)
        finally:
            conn.close()

        if verdict.failed_errors:
            for result in verdict.failed_errors:
                self.log.error("FAILED %s", result.describe())
            raise AirflowFailException(verdict.failure_message())
        if verdict.failed_warnings:
            self.log.warning(verdict.warning_message())
            if self.warning_notifier is not None:
                try:
                    self.warning_notifier.with_message(
                        verdict.warning_message(),
                        subject=f"[game-market-pipeline] quality warnings for build {self.build_id}",
                    ).notify(context)
                except Exception:  # an unreachable alert channel must not block a verified build
                    self.log.exception("could not send the quality warning alert")
        self.log.info(
            "quality gate passed for build %s: %d check(s), %d warning(s)",
            self.build_id,
            len(verdict.results),
            len(verdict.failed_warnings),
        )
        return PokeReturnValue(is_done=True, xcom_value=verdict.summary())
