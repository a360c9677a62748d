"""Typed model of the shared endpoint config (include/config/endpoints.yaml).

Every model is frozen and forbids unknown keys, so a typo in the YAML is an error at DAG-parse
time naming the file, the endpoint and the field, not a silently ignored setting.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from game_market_pipeline.config.quality import QualityConfig

# Identifiers become quoted Postgres names and S3 key parts: keep them boring on purpose.
IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,40}$"
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)

Identifier = Annotated[str, Field(pattern=IDENTIFIER_PATTERN)]

# Fallbacks of the walk guards for an endpoint whose source sets none (ResolvedEndpoint).
DEFAULT_MAX_PAGES = 10_000
DEFAULT_MAX_API_CALLS = 100_000
DEFAULT_EXECUTION_TIMEOUT_SECONDS = 3 * 3600
DEFAULT_COUNT_TOLERANCE = 0.01


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaginatorKind(StrEnum):
    NONE = "none"
    PAGE_NUMBER = "page_number"
    NEXT_LINK = "next_link"
    OFFSET = "offset"


class AuthKind(StrEnum):
    NONE = "none"
    QUERY_PARAM = "query_param"
    HEADER = "header"


class NoPaginator(Strict):
    kind: Literal["none"]


class PageNumberPaginator(Strict):
    """`?page=N&page_size=M`; stops on an empty or short page, or when `total_field` is reached."""

    kind: Literal["page_number"]
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = Field(default=100, gt=0, le=10_000)
    first_page: int = 1
    total_field: str | None = None


class NextLinkPaginator(Strict):
    """Follows the full URL the API returns in `next_field` until it is null.

    When the body says how many records the walk has (`total_field`) and the link is page-addressed
    (`page_param`), the remaining page URLs are known after the first page and are fetched in
    parallel; `size_param` names the link's page-size parameter (else the first page's record count
    is taken as the page size). Without them, the walk follows the links one by one.
    """

    kind: Literal["next_link"]
    next_field: str = "next"
    # Planning the remaining pages up front (so they can be fetched in parallel) needs the body's
    # record count and a page-addressed link: e.g. RAWG's `count` and `?page=N&page_size=M`.
    total_field: str | None = None
    page_param: str | None = None
    size_param: str | None = None


class OffsetPaginator(Strict):
    """`?offset=N&limit=M`; stops on a short page or when `total_field` is reached."""

    kind: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    page_size: int = Field(default=100, gt=0, le=10_000)
    total_field: str | None = None


KNOWN_PAGINATORS = tuple(k.value for k in PaginatorKind)

Paginator = Annotated[
    NoPaginator | PageNumberPaginator | NextLinkPaginator | OffsetPaginator,
    Field(discriminator="kind"),
]


class Auth(Strict):
    kind: AuthKind = AuthKind.NONE
    # Query parameter or header name that carries the secret (taken from the connection's password).
    name: str | None = None

    @model_validator(mode="after")
    def _name_needed(self) -> Auth:
        if self.kind != AuthKind.NONE and not self.name:
            raise ValueError(f"auth kind '{self.kind}' needs `name` (the query parameter or header)")
        return self


class RateLimit(Strict):
    requests_per_second: float = Field(gt=0, le=1000)
    burst: int = Field(default=1, ge=1, le=1000)


class Incremental(Strict):
    """A server-side filter on a cursor field, filled from the run's data interval."""

    cursor_field: str
    param: str
    # Placeholders: {start_date} {end_date} (YYYY-MM-DD) and {start} {end} (ISO timestamps).
    format: str = "{start_date},{end_date}"


class FanOut(Strict):
    """List endpoint -> one detail call per listed record; the detail is what gets stored."""

    path: str = Field(
        description="Detail path template, placeholders from the parent record, e.g. /cards/{id}"
    )
    parent_key: str = Field(description="Field of the list record substituted into `path`")
    concurrency: int = Field(default=4, ge=1, le=64)

    @field_validator("path")
    @classmethod
    def _has_placeholder(cls, value: str) -> str:
        if "{" not in value:
            raise ValueError("fan_out.path needs a {placeholder} taken from the parent record")
        return value


class DetailsOf(Strict):
    """Details of the records another endpoint of this source holds in staging: one call per record
    that is new, or whose list item changed, since its detail was last fetched — never for an
    unchanged one. The endpoint's `path` is the detail path, e.g. /games/{id}."""

    endpoint: Identifier = Field(
        description="The list endpoint of the same source whose staged records are detailed"
    )
    parent_key: str = Field(
        default="id", description="Field of the staged list record substituted into `path`"
    )
    priority: tuple[str, ...] = Field(
        default=(),
        description="List-record fields, most valuable first: the backlog is fetched in descending order of these",
    )
    max_calls_per_run: int = Field(
        default=500,
        ge=1,
        le=1_000_000,
        description="Detail calls one run may make; what is left is the backlog of the next runs (logged and recorded)",
    )
    concurrency: int = Field(default=4, ge=1, le=64)


class ApiTotals(Strict):
    """What the API held when last looked at: the input of `gmp-budget`'s call estimates."""

    records: int = Field(ge=0, description="Records the endpoint's full listing returns")
    changed_per_day: int | None = Field(
        default=None, ge=0, description="Records changed per day (incremental endpoints: what a run re-reads)"
    )
    seen: str | None = Field(default=None, description="Where and when the totals were seen")


class CallBudget(Strict):
    """The calls a source may make (its API's quota, or our share of it)."""

    calls_per_month: int | None = Field(default=None, ge=1)
    calls_per_day: int | None = Field(default=None, ge=1)
    note: str | None = None


REMOVED_SETTINGS = {
    "check_processes": "records are checked in the task's own process (issue 22: the check worker pool "
    "gained less than 15 % in a one-CPU pod)",
}


class EndpointSettings(Strict):
    """Fields an endpoint may set itself or inherit from its source's `defaults`."""

    paginator: Paginator | None = None
    record_selector: str | None = None
    primary_key: str | None = None
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    schedule: str | None = None
    rate_limit: RateLimit | None = None
    quarantine_threshold: float | None = Field(default=None, ge=0, le=1)
    parallel_pages: int | None = Field(default=None, ge=1, le=32)
    # Removed settings: refused with a message naming them (a silently ignored line would mislead).
    check_processes: SkipJsonSchema[None] = None
    timeout_seconds: float | None = Field(default=None, gt=0, le=600)

    @field_validator(*REMOVED_SETTINGS, mode="before")
    @classmethod
    def _refuse_removed(cls, value: Any, info: ValidationInfo) -> Any:
        raise ValueError(
            f"`{info.field_name}` was removed: {REMOVED_SETTINGS[str(info.field_name)]}; delete this setting"
        )

    # Guards of one date's walk (ingest/guards.py): each stops the extract with an error naming the
    # endpoint and the link, keeping what already landed.
    max_pages: int | None = Field(
        default=None, ge=1, le=10_000_000, description="Most pages one date's walk may fetch"
    )
    max_api_calls: int | None = Field(
        default=None,
        ge=1,
        le=100_000_000,
        description="Most API calls (retries and fan-out details included) one date's extract may make",
    )
    execution_timeout_seconds: int | None = Field(
        default=None, ge=60, le=7 * 24 * 3600, description="Airflow execution_timeout of each task"
    )
    count_tolerance: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share by which the records landed may differ from the API's count before it is a warning",
    )
    count_exact: bool | None = Field(
        default=None, description="A landed count that differs from the API's count fails the load"
    )
    tags: tuple[str, ...] = ()


class EndpointConfig(EndpointSettings):
    name: Identifier
    path: str
    record_model: str = Field(description="Record model name in the registry, e.g. rawg.Game")
    description: str | None = None
    incremental: Incremental | None = None
    fan_out: FanOut | None = None
    details_of: DetailsOf | None = None
    totals: ApiTotals | None = None

    @field_validator("path")
    @classmethod
    def _path_is_relative(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("path must start with '/' (it is appended to the source's base URL)")
        return value

    @model_validator(mode="after")
    def _details_path(self) -> EndpointConfig:
        if self.details_of is not None:
            placeholder = "{" + self.details_of.parent_key + "}"
            if placeholder not in self.path:
                raise ValueError(f"details_of: path must contain {placeholder} (the staged record's key)")
            if self.fan_out is not None or self.incremental is not None:
                raise ValueError(
                    "details_of: an endpoint of details has no fan_out or incremental of its own"
                )
        return self


class ResolvedEndpoint(Strict):
    """An endpoint with its source's defaults merged in: everything the ingestion needs."""

    source: Identifier
    name: Identifier
    path: str
    record_model: str
    description: str | None
    paginator: Paginator
    record_selector: str
    primary_key: str
    params: dict[str, str | int | float | bool]
    schedule: str | None
    rate_limit: RateLimit
    quarantine_threshold: float
    parallel_pages: int
    timeout_seconds: float
    # Unset in the YAML: these fallbacks (the shipped config sets them per source).
    max_pages: int = DEFAULT_MAX_PAGES
    max_api_calls: int = DEFAULT_MAX_API_CALLS
    execution_timeout_seconds: int = DEFAULT_EXECUTION_TIMEOUT_SECONDS
    count_tolerance: float = DEFAULT_COUNT_TOLERANCE
    count_exact: bool = False
    tags: tuple[str, ...]
    incremental: Incremental | None
    fan_out: FanOut | None
    connection_id: str
    details_of: DetailsOf | None = None
    totals: ApiTotals | None = None
    base_url: str
    auth: Auth
    pool: str
    pool_slots: int

    @property
    def dag_id(self) -> str:
        return f"ingest__{self.source}__{self.name}"

    @property
    def table_name(self) -> str:
        return f"{self.source}__{self.name}"


class SourceConfig(Strict):
    name: Identifier
    description: str | None = None
    connection_id: str
    base_url: str
    auth: Auth = Auth()
    pool_slots: int = Field(default=2, ge=1, le=128)
    budget: CallBudget | None = None
    defaults: EndpointSettings = EndpointSettings()
    endpoints: tuple[EndpointConfig, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_endpoints(self) -> SourceConfig:
        names = [e.name for e in self.endpoints]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate endpoint names in source '{self.name}': {duplicates}")
        return self


class WarehouseConfig(Strict):
    """The warehouse connection and the schema of each role (game_market_pipeline.warehouse.schemas)."""

    connection_id: str = "warehouse_db"
    # The staging tables `<raw_schema>.<source>__<endpoint>` the loads write and dbt reads.
    raw_schema: Identifier = "raw"
    # The pipeline's own tables (runs, call counts, leases, quality results, promotions), by migrations.
    ops_schema: Identifier = "ops"
    # The schema a dbt build is written to and audited in, before it is swapped into production
    # (quality.promotion.production_schema).
    audit_schema: Identifier = "analytics_audit"


class LakeConfig(Strict):
    connection_id: str = "lake_s3"
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
    bronze_prefix: str = "bronze"
    quarantine_prefix: str = "quarantine"


class DagDefaults(Strict):
    owner: str = "data-platform"
    start_date: date = date(2026, 1, 1)
    retries: int = Field(default=3, ge=2)
    retry_delay_seconds: int = Field(default=60, gt=0)
    max_retry_delay_seconds: int = Field(default=1800, gt=0)
    max_active_runs: int = Field(default=1, ge=1)


class PipelineConfig(Strict):
    warehouse: WarehouseConfig = WarehouseConfig()
    lake: LakeConfig
    dag_defaults: DagDefaults = DagDefaults()
    sources: tuple[SourceConfig, ...] = Field(min_length=1)
    # Data-quality checks of the write-audit-publish gate (see game_market_pipeline.quality).
    quality: QualityConfig = QualityConfig()

    @model_validator(mode="after")
    def _one_schema_per_role(self) -> PipelineConfig:
        roles = {
            "warehouse.raw_schema": self.warehouse.raw_schema,
            "warehouse.ops_schema": self.warehouse.ops_schema,
            "warehouse.audit_schema": self.warehouse.audit_schema,
            "quality.promotion.production_schema": self.quality.promotion.production_schema,
            "quality.promotion.previous_schema": self.quality.promotion.previous_schema,
        }
        by_schema: dict[str, list[str]] = {}
        for role, schema in roles.items():
            by_schema.setdefault(schema, []).append(role)
        shared = {schema: names for schema, names in by_schema.items() if len(names) > 1}
        if shared:
            detail = "; ".join(
                f"'{schema}' is {' and '.join(names)}" for schema, names in sorted(shared.items())
            )
            raise ValueError(f"each warehouse schema has one role, but {detail}")
        return self

    @model_validator(mode="after")
    def _unique_sources(self) -> PipelineConfig:
        names = [s.name for s in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate source names: {duplicates}")
        return self


def is_identifier(value: str) -> bool:
    return bool(_IDENTIFIER.match(value))
