"""A validation-only twin of a record model: the same checks, with extra fields forbidden at every
depth, without building model instances.

Ingestion validates every record and keeps only the verdict (the raw payload is what lands), so
the ~50 frozen model instances pydantic builds for each RAWG game are thrown away at once. The twin
is the model's own core schema with every `model` node turned into a `typed-dict` node with the
same fields, field schemas, aliases and config: pydantic-core checks exactly what it checks for
the model, and returns plain dicts. On the synthetic RAWG games that is 0.082 ms a record instead of
0.145 (bench/RESULTS.md).

A twin exists only for schemas made of plain field types. A model with validators (function
nodes), computed defaults or any schema node not in `_PLAIN_NODES` gets none, and its records are
validated by the model itself: the twin must never accept what the model with extras forbidden
would refuse (tests/unit/test_validation_twin.py holds the two to the same verdicts).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic_core import SchemaValidator

# Schema nodes whose meaning does not depend on being inside a model. Anything else (function
# validators, model-level wrap validators, dataclasses, tagged unions with callables, ...) and no
# twin is built.
_PLAIN_NODES = frozenset(
    {
        "any",
        "bool",
        "bytes",
        "date",
        "datetime",
        "decimal",
        "default",
        "definition-ref",
        "definitions",
        "dict",
        "float",
        "int",
        "list",
        "literal",
        "model",
        "model-field",
        "model-fields",
        "none",
        "nullable",
        "set",
        "frozenset",
        "str",
        "time",
        "timedelta",
        "tuple",
        "union",
        "url",
        "uuid",
    }
)
# Keys of a model-field that carry over to a typed-dict-field unchanged.
_FIELD_KEYS = ("validation_alias", "serialization_alias", "serialization_exclude", "metadata")


class NoTwin(ValueError):
    """The model's schema has a node the twin cannot reproduce; validate with the model."""


def _twin_of(node: Any) -> Any:
    if isinstance(node, list):
        return [_twin_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if isinstance(kind, str) and kind not in _PLAIN_NODES:
        raise NoTwin(f"schema node {kind!r}")
    if kind == "default" and "default_factory" in node:
        raise NoTwin("default_factory")  # validated by the model: a factory may depend on other fields
    if kind == "model":
        return _typed_dict_of(node)
    return {key: _twin_of(value) for key, value in node.items()}


def _typed_dict_of(model_node: dict[str, Any]) -> dict[str, Any]:
    fields_node = model_node["schema"]
    if (
        fields_node.get("type") != "model-fields"
        or fields_node.get("computed_fields")
        or model_node.get("post_init")
        or model_node.get("custom_init")
        or model_node.get("root_model")
        # Strict models: strictness reaches nested validators through the model's build; not mirrored.
        or model_node.get("strict")
        or (model_node.get("config") or {}).get("strict")
    ):
        raise NoTwin(f"model {model_node.get('cls')!r} is not a plain field model")
    fields = {}
    for name, field in fields_node["fields"].items():
        field_schema = field["schema"]
        twin_field: dict[str, Any] = {
            "type": "typed-dict-field",
            "schema": _twin_of(field_schema),
            # A field with a default may be left out; one without may not, as in the model.
            "required": field_schema.get("type") != "default",
        }
        twin_field.update({key: field[key] for key in _FIELD_KEYS if key in field})
        fields[name] = twin_field
    twin: dict[str, Any] = {"type": "typed-dict", "fields": fields, "extra_behavior": "forbid"}
    if "ref" in model_node:
        twin["ref"] = model_node["ref"]  # definition-refs elsewhere point at it
    # The model's config (aliases by name, string handling, ...) with extras forbidden.
    config = dict(model_node.get("config") or {})
    config["extra_fields_behavior"] = "forbid"
    twin["config"] = config
    return twin


@cache
def forbid_extra_validator(model: type[BaseModel]) -> SchemaValidator | None:
    """A validator giving `model.model_validate(raw, extra="forbid")`'s verdict without instances,
    or None when the model's schema is not plain enough to twin."""
    try:
        return SchemaValidator(_twin_of(model.__pydantic_core_schema__))
    except NoTwin:
        return None
