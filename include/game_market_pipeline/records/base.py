"""Base class of every API record model.

Records are validated, never rewritten: the raw payload is what lands in S3 and staging. Fields a
model does not know are allowed (kept in the raw payload) and reported as schema drift.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ApiRecord(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    def unknown_fields(self, prefix: str = "") -> set[str]:
        """Dotted paths of fields the model did not declare, at any depth (list items as `[]`)."""
        found = {f"{prefix}{name}" for name in (self.model_extra or {})}
        for name in type(self).model_fields:
            found |= _unknown_in(getattr(self, name), f"{prefix}{name}.")
        return found


def _unknown_in(value: Any, prefix: str) -> set[str]:
    if isinstance(value, ApiRecord):
        return value.unknown_fields(prefix)
    if isinstance(value, (list, tuple)):
        found: set[str] = set()
        for item in value:
            found |= _unknown_in(item, prefix.rstrip(".") + "[].")
        return found
    if isinstance(value, dict):
        found = set()
        for item in value.values():
            if isinstance(item, ApiRecord):
                found |= _unknown_in(item, prefix + "*.")
        return found
    return set()
