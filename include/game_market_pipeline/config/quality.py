"""Typed model of the `quality:` section of include/config/endpoints.yaml.

The checks are declared per gold model (`models:`, tables of the build's schema) and per staging table
(`staging:`, tables `raw.<source>__<endpoint>`). Every check is `error` (blocks the promotion) or
`warn` (alerts only); a check without `severity` takes `defaults.severity`.

Like the rest of the config, every model is frozen and forbids unknown keys. This module must not import
`game_market_pipeline.config.models` (that module imports this one).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Postgres names (up to 63 characters). The warehouse.*_schema fields are held to 41
# (config.models.IDENTIFIER_PATTERN; not imported: that module imports this one).
_NAME = r"^[a-z][a-z0-9_]{0,62}$"
Name = Annotated[str, Field(pattern=_NAME)]
# Columns may start with an underscore (the staging contract's `_ingested_at`, `_record_key`, …).
Column = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Severity(StrEnum):
    ERROR = "error"  # a failure blocks the promotion
    WARN = "warn"  # a failure sends an alert, the build is still promoted


class AlertChannel(StrEnum):
    LOG = "log"
    EMAIL = "email"
    SLACK = "slack"


class _Check(_Strict):
    severity: Severity | None = Field(
        default=None, description="error | warn; default: quality.defaults.severity"
    )


class RowCount(_Check):
    """The table has at least `min` rows."""

    min: int = Field(ge=0)


class ChangeDirection(StrEnum):
    BOTH = "both"  # |rows - baseline| / baseline
    DECREASE = "decrease"  # only shrinking counts (a history table that should only grow)
    INCREASE = "increase"  # only growing counts


class RelativeChange(_Check):
    """Row count of the build against the production table: at most `max` relative change (0.5 = 50 %).

    Passes without a baseline (first build, or the production table is new or empty).
    """

    max: float = Field(gt=0)
    direction: ChangeDirection = ChangeDirection.BOTH


class NullRate(_Check):
    """Share of rows whose `column` is NULL is at most `max` (0 = never NULL)."""

    column: Column
    max: float = Field(ge=0, le=1)


class Unique(_Check):
    """No two rows share `columns` (rows with a NULL in them are ignored, like dbt's `unique`)."""

    columns: tuple[Column, ...] = Field(min_length=1)


class Relationship(_Check):
    """Every non-NULL `column` value exists as `field` of model `to` (same build); at most `max_orphans`."""

    column: Column
    to: Name
    field: Column
    max_orphans: int = Field(default=0, ge=0)


class Freshness(_Check):
    """The newest `column` value (timestamp or date) is at most `max_age_hours` old."""

    column: Column
    max_age_hours: float = Field(gt=0)


class QuarantineRate(_Check):
    """quarantined / records over the endpoint's latest `runs` ingestion runs (ops.ingest_runs).

    `max` defaults to the endpoint's own `quarantine_threshold`. No run recorded yet passes (nothing was
    quarantined); whether the data is recent is the `freshness` check's question.
    """

    max: float | None = Field(default=None, ge=0, le=1)
    runs: int = Field(default=1, ge=1, le=1000)


class TableChecks(_Strict):
    row_count: RowCount | None = None
    relative_change: RelativeChange | None = None
    null_rate: tuple[NullRate, ...] = ()
    unique: tuple[Unique, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    freshness: Freshness | None = None


class StagingChecks(TableChecks):
    quarantine_rate: QuarantineRate | None = None

    @model_validator(mode="after")
    def _no_baseline(self) -> StagingChecks:
        if self.relative_change is not None:
            raise ValueError(
                "relative_change compares a model with production; staging tables have no such baseline"
            )
        return self


class CheckDefaults(_Strict):
    severity: Severity = Severity.ERROR


class DbtTestSettings(_Strict):
    """dbt's own tests (and model builds) of the build count as checks."""

    enabled: bool = True
    # The severity of a failed dbt test comes from dbt (`fail` → error, `warn` → warn); a dbt task of the
    # build that did not succeed is one more check (`dbt.build`) of this severity.
    build_severity: Severity = Severity.ERROR


class GateSettings(_Strict):
    poke_interval_seconds: int = Field(default=30, ge=1, le=3600)
    timeout_seconds: int = Field(default=2 * 3600, ge=10, le=7 * 24 * 3600)


class PromotionSettings(_Strict):
    # The audit schema each build writes into is `warehouse.audit_schema`; the promotion swaps it
    # into production_schema.
    production_schema: Name = "analytics"
    previous_schema: Name = "analytics_previous"
    # The swap's lock wait: short, so readers queued behind it wait briefly; retried with backoff.
    lock_timeout_ms: int = Field(default=500, ge=10, le=60_000)
    max_attempts: int = Field(default=20, ge=1, le=1000)
    # Roles that always get USAGE + SELECT on production, on top of the grants copied from the old build.
    grant_select_to: tuple[str, ...] = ()


class AlertSettings(_Strict):
    channel: AlertChannel = AlertChannel.LOG
    # slack: an http connection whose host (+ password, if the path is kept secret) is the webhook URL;
    # email: an smtp connection (host, port, login, password; extra `from_email`, `ssl`, `starttls`).
    connection_id: str | None = None
    email_to: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _channel_needs(self) -> AlertSettings:
        if self.channel in (AlertChannel.SLACK, AlertChannel.EMAIL) and not self.connection_id:
            raise ValueError(f"alerts channel '{self.channel}' needs `connection_id`")
        if self.channel == AlertChannel.EMAIL and not self.email_to:
            raise ValueError("alerts channel 'email' needs `email_to`")
        return self


class QualityConfig(_Strict):
    defaults: CheckDefaults = CheckDefaults()
    gate: GateSettings = GateSettings()
    promotion: PromotionSettings = PromotionSettings()
    alerts: AlertSettings = AlertSettings()
    dbt_tests: DbtTestSettings = DbtTestSettings()
    # Gold models (tables of the build's schema) → their checks.
    models: dict[Name, TableChecks] = Field(default_factory=dict)
    # Staging tables `raw.<source>__<endpoint>` → their checks.
    staging: dict[Name, StagingChecks] = Field(default_factory=dict)
