"""Domain errors. Every message names what was wrong and where; none may carry a secret."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    source: str | None
    endpoint: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.source:
            where.append(f"source '{self.source}'")
        if self.endpoint:
            where.append(f"endpoint '{self.endpoint}'")
        where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}"


class PipelineError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(PipelineError):
    def __init__(self, problems: tuple[ConfigProblem, ...] | list[ConfigProblem]):
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the pipeline config:\n{lines}")


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
