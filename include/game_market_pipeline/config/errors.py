"""The config's errors, and the base class of every error the package raises on purpose.

Defined here so the config package imports nothing of the project; game_market_pipeline.exceptions
re-exports them. Every message names what was wrong and where; none may carry a secret.
"""

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
