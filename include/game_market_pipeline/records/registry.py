"""Record model names used in the config (`rawg.Game`) -> pydantic classes, imported lazily.

The names and their import paths are config data (config.record_models): the loader checks an
endpoint's `record_model` against them without importing any record class.
"""

from __future__ import annotations

import importlib
from functools import cache

from game_market_pipeline.config.record_models import RECORD_MODELS as _MODELS
from game_market_pipeline.config.record_models import known_record_models as known_record_models
from game_market_pipeline.records.base import ApiRecord


@cache
def record_model(name: str) -> type[ApiRecord]:
    try:
        module_name, class_name = _MODELS[name].split(":")
    except KeyError:
        raise KeyError(f"unknown record model {name!r}; known: {', '.join(sorted(_MODELS))}") from None
    model = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(model, type) and issubclass(model, ApiRecord)):
        raise TypeError(f"{name} -> {model!r} is not an ApiRecord")
    return model
