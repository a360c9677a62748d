"""The warehouse's schema names, one per role, read from the config.

| role       | config field                            | holds                                           |
|------------|-----------------------------------------|-------------------------------------------------|
| raw        | warehouse.raw_schema                    | the staging tables `<source>__<endpoint>`       |
| ops        | warehouse.ops_schema                    | runs, call counts, leases, quality, promotions  |
| audit      | warehouse.audit_schema                  | the dbt build being audited                     |
| production | quality.promotion.production_schema     | the promoted build readers query                |
| previous   | quality.promotion.previous_schema       | the build before it (rollback)                  |

The config refuses two roles sharing one schema. `DEFAULT_SCHEMAS` are the config's own defaults: the
fallback of helpers called without a config (tests, one-off scripts); the DAGs always pass the
configured names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from game_market_pipeline.config.models import WarehouseConfig
from game_market_pipeline.config.quality import PromotionSettings


@dataclass(frozen=True)
class WarehouseSchemas:
    raw: str
    ops: str
    audit: str
    production: str
    previous: str

    @property
    def staging(self) -> str:
        """The staging tables live in the raw schema (`raw.<source>__<endpoint>`)."""
        return self.raw

    @classmethod
    def of(cls, warehouse: WarehouseConfig, promotion: PromotionSettings) -> WarehouseSchemas:
        return cls(
            raw=warehouse.raw_schema,
            ops=warehouse.ops_schema,
            audit=warehouse.audit_schema,
            production=promotion.production_schema,
            previous=promotion.previous_schema,
        )

    @classmethod
    def from_config(cls, config: Any) -> WarehouseSchemas:
        """From a PipelineConfig (or a LoadedConfig that loaded)."""
        pipeline = getattr(config, "config", None) or config
        return cls.of(pipeline.warehouse, pipeline.quality.promotion)


DEFAULT_SCHEMAS = WarehouseSchemas.of(WarehouseConfig(), PromotionSettings())
# A build of its own (a benchmark, a test) names its audit schema here, over warehouse.audit_schema.
AUDIT_SCHEMA_ENV = "GMP_DBT_SCHEMA"


def audit_schema(warehouse: WarehouseConfig | None) -> str:
    """The schema dbt builds into and the gate audits: $GMP_DBT_SCHEMA, else `warehouse.audit_schema`
    (the config's default when there is no warehouse config, e.g. the config does not load)."""
    return os.environ.get(AUDIT_SCHEMA_ENV) or (warehouse or WarehouseConfig()).audit_schema


def configured_schemas(config_path: str | None = None) -> WarehouseSchemas:
    """The schema names of the pipeline config (cached per file); ConfigError if it does not load."""
    from game_market_pipeline.config.loader import load_config_cached
    from game_market_pipeline.exceptions import ConfigError

    loaded = load_config_cached(config_path)
    if loaded.config is None:
        raise ConfigError(loaded.problems)
    return WarehouseSchemas.from_config(loaded.config)
