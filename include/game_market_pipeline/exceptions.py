"""Domain errors. Every message names what was wrong and where; none may carry a secret."""

from __future__ import annotations

# The config's errors (and the base class) live in the config package, which imports nothing of the
# project; re-exported here so every domain error has one import path.
from game_market_pipeline.config.errors import ConfigError as ConfigError
from game_market_pipeline.config.errors import ConfigProblem as ConfigProblem
from game_market_pipeline.config.errors import PipelineError as PipelineError


class ApiError(PipelineError):
    """An API answered with an error we will not retry (already redacted)."""


class ApiAuthError(ApiError):
    """401/403: the API key in the connection is missing or wrong."""


class ApiResponseError(ApiError):
    """The body could not be parsed, or did not have the expected shape."""


class QuarantineThresholdExceeded(PipelineError):
    """Too large a share of a run's records failed validation."""


class LoadMismatchError(PipelineError):
    """Rows loaded into staging do not match the landing's manifest."""


class ApiNotFoundError(ApiError):
    """404: the resource is gone (a detail whose record was deleted after it was listed)."""
