"""Load the shared config, merge source defaults under endpoints, and report every problem.

A problem drops only what it concerns (docs/CONFIG_ERRORS.md): a broken endpoint only itself, a
broken source (its `defaults`, `auth`, ...) only its endpoints, a name used twice only the entries of
that name; each is reported (file, source, endpoint, field) while the rest still loads. The DAG
factory registers what loaded, `LoadedConfig.left_out` names what did not, and
`dags/config_problems.py` turns the problems into the one import error that CI fails on.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from game_market_pipeline.config.errors import ConfigError, ConfigProblem
from game_market_pipeline.config.models import (
    KNOWN_PAGINATORS,
    EndpointConfig,
    PipelineConfig,
    ResolvedEndpoint,
    SourceConfig,
)
from game_market_pipeline.config.record_models import known_record_models

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "endpoints.yaml"
CONFIG_PATH_ENV = "GMP_CONFIG_PATH"

# Numbers of the connection or environment that never belong in the YAML.
DEFAULT_PARALLEL_PAGES = 1
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_QUARANTINE_THRESHOLD = 0.05


@dataclass(frozen=True)
class LoadedConfig:
    path: Path
    config: PipelineConfig | None
    endpoints: tuple[ResolvedEndpoint, ...]
    problems: tuple[ConfigProblem, ...]
    # (source, endpoint) of every endpoint in the file that was not loaded because of a problem.
    left_out: tuple[tuple[str, str], ...] = ()

    @property
    def left_out_tables(self) -> frozenset[str]:
        """Staging tables `<source>__<endpoint>` whose endpoint config did not load."""
        return frozenset(f"{source}__{endpoint}" for source, endpoint in self.left_out)

    def problems_of(self, source: str, endpoint: str) -> tuple[ConfigProblem, ...]:
        """The problems that keep this endpoint out: its own, its source's and the file's."""
        return tuple(
            p
            for p in self.problems
            if p.source is None or (p.source == source and p.endpoint in (None, endpoint))
        )

    def endpoint(self, source: str, name: str) -> ResolvedEndpoint:
        for endpoint in self.endpoints:
            if endpoint.source == source and endpoint.name == name:
                return endpoint
        raise KeyError(f"no endpoint {source}.{name} in {self.path}")

    def raise_for_problems(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    @property
    def lake_bucket(self) -> str:
        assert self.config is not None
        return os.environ.get("LAKE_BUCKET") or self.config.lake.bucket


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


def _field_of(loc: tuple[Any, ...]) -> str:
    # Drop pydantic's union-branch tags (e.g. 'next_link') that are not YAML keys.
    parts = [str(p) for p in loc if not (isinstance(p, str) and p in KNOWN_PAGINATORS)]
    return ".".join(parts) or "<root>"


def _message(error: Any) -> str:  # a pydantic ErrorDetails
    if error.get("type") == "union_tag_invalid":
        ctx = error.get("ctx", {})
        return f"unknown paginator kind {ctx.get('tag')!r}; known kinds: {', '.join(KNOWN_PAGINATORS)}"
    return str(error["msg"])


def _problems(
    file: Path, err: ValidationError, source: str | None, endpoint: str | None, prefix: tuple[Any, ...] = ()
) -> list[ConfigProblem]:
    return [
        ConfigProblem(str(file), source, endpoint, _field_of(prefix + tuple(e["loc"])), _message(e))
        for e in err.errors()
    ]


def _merge(defaults: dict[str, Any], endpoint: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in endpoint.items():
        if key == "params" and isinstance(value, dict):
            merged["params"] = {**defaults.get("params", {}), **value}
        elif key == "tags":
            merged["tags"] = tuple(defaults.get("tags", ())) + tuple(value)
        else:
            merged[key] = value
    return merged


def _resolve(source: SourceConfig, endpoint: EndpointConfig) -> ResolvedEndpoint:
    merged = _merge(source.defaults.model_dump(exclude_unset=True), endpoint.model_dump(exclude_unset=True))
    return ResolvedEndpoint.model_validate(
        {
            **merged,
            "source": source.name,
            "quarantine_threshold": merged.get("quarantine_threshold", DEFAULT_QUARANTINE_THRESHOLD),
            "parallel_pages": merged.get("parallel_pages", DEFAULT_PARALLEL_PAGES),
            "timeout_seconds": merged.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
            "params": merged.get("params", {}),
            "schedule": merged.get("schedule"),
            "tags": tuple(merged.get("tags", ())),
            "incremental": merged.get("incremental"),
            "fan_out": merged.get("fan_out"),
            "details_of": merged.get("details_of"),
            "totals": merged.get("totals"),
            "description": merged.get("description"),
            "connection_id": source.connection_id,
            "base_url": source.base_url,
            "auth": source.auth,
            "pool": f"api_{source.name}",
            "pool_slots": source.pool_slots,
        }
    )


def _name_of(raw: Any, index: int) -> str:
    return str(raw.get("name", f"#{index}")) if isinstance(raw, dict) else f"#{index}"


def _repeated_names(items: list[Any]) -> dict[str, list[int]]:
    """Names used by more than one item of a YAML list -> the items' positions (0-based)."""
    positions: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            positions.setdefault(item["name"], []).append(index)
    return {name: where for name, where in positions.items() if len(where) > 1}


def _repeated(what: str, name: str, where: list[int], within: str) -> str:
    positions = ", ".join(f"#{i}" for i in where)
    return (
        f"duplicate {what} name {name!r}: used {len(where)} times{within} (entries {positions}, counted from 0); "
        f"none of them is loaded until the name is unique"
    )


def _source_endpoints(raw_source: dict[str, Any]) -> list[Any]:
    endpoints = raw_source.get("endpoints")
    return endpoints if isinstance(endpoints, list) else []


def _parse_source(
    file: Path,
    s_index: int,
    raw_source: dict[str, Any],
    problems: list[ConfigProblem],
    left_out: list[tuple[str, str]],
) -> SourceConfig | None:
    """One source with its valid endpoints, or None; every problem is named and every endpoint that
    is not loaded is added to `left_out`. A problem here never reaches another source."""
    source_name = _name_of(raw_source, s_index)
    raw_endpoints = _source_endpoints(raw_source)
    repeated = _repeated_names(raw_endpoints)
    good_endpoints = []
    for e_index, raw_endpoint in enumerate(raw_endpoints):
        endpoint_name = _name_of(raw_endpoint, e_index)
        if endpoint_name in repeated:
            # Which of them is meant is anyone's guess: none is loaded, the source's others are.
            # One problem per name, at its first entry.
            if repeated[endpoint_name][0] == e_index:
                problems.append(
                    ConfigProblem(
                        str(file),
                        source_name,
                        endpoint_name,
                        "name",
                        _repeated(
                            "endpoint", endpoint_name, repeated[endpoint_name], f" in source '{source_name}'"
                        ),
                    )
                )
                left_out.append((source_name, endpoint_name))
            continue
        try:
            endpoint = EndpointConfig.model_validate(raw_endpoint)
        except ValidationError as err:
            problems += _problems(file, err, source_name, endpoint_name)
            left_out.append((source_name, endpoint_name))
            continue
        if endpoint.record_model not in known_record_models():
            problems.append(
                ConfigProblem(
                    str(file),
                    source_name,
                    endpoint_name,
                    "record_model",
                    f"unknown record model {endpoint.record_model!r}; known: "
                    f"{', '.join(sorted(known_record_models()))}",
                )
            )
            left_out.append((source_name, endpoint_name))
            continue
        good_endpoints.append(raw_endpoint)
    document = {**raw_source, "endpoints": good_endpoints} if raw_endpoints else raw_source
    try:
        return SourceConfig.model_validate(document)
    except ValidationError as err:
        errors = err.errors()
        if raw_endpoints and not good_endpoints:
            # Every endpoint was left out for reasons already reported: "too short" would only add noise.
            errors = [e for e in errors if tuple(e["loc"])[:1] != ("endpoints",)]
        problems += [
            # Relative to the source, as an endpoint's fields are to the endpoint (the name says which).
            ConfigProblem(str(file), source_name, None, _field_of(tuple(e["loc"])), _message(e))
            for e in errors
        ]
        # The source's own settings (defaults, auth, ...) are broken: none of its endpoints loads.
        left_out += [(source_name, _name_of(e, i)) for i, e in enumerate(good_endpoints)]
        return None


def parse_config(raw: Any, file: Path) -> LoadedConfig:
    """Validate a parsed YAML document; never raises, and a problem drops only what it concerns.

    An endpoint's problem leaves out that endpoint; a source's own (its `defaults`, `auth`, ...)
    that source's endpoints; a name used twice, every endpoint (or source) of that name. Problems of
    the file-level sections (`lake`, `warehouse`, `dag_defaults`, `quality`) leave no config at all.
    Every endpoint not loaded is listed in `left_out`.
    """
    if not isinstance(raw, dict):
        problem = ConfigProblem(str(file), None, None, "<root>", "the config must be a mapping")
        return LoadedConfig(file, None, (), (problem,))
    problems: list[ConfigProblem] = []
    left_out: list[tuple[str, str]] = []
    sources = raw.get("sources")
    raw_sources: list[Any] = sources if isinstance(sources, list) else []
    repeated_sources = _repeated_names(raw_sources)
    good_sources: list[SourceConfig] = []
    for s_index, raw_source in enumerate(raw_sources):
        if not isinstance(raw_source, dict):
            problems.append(ConfigProblem(str(file), None, None, f"sources.{s_index}", "must be a mapping"))
            continue
        source_name = _name_of(raw_source, s_index)
        if source_name in repeated_sources:
            if repeated_sources[source_name][0] == s_index:  # one problem per name, at its first entry
                problems.append(
                    ConfigProblem(
                        str(file),
                        source_name,
                        None,
                        "name",
                        _repeated("source", source_name, repeated_sources[source_name], ""),
                    )
                )
            left_out += [
                (source_name, _name_of(e, i))
                for i, e in enumerate(_source_endpoints(raw_source))
                if (source_name, _name_of(e, i)) not in left_out
            ]
            continue
        source = _parse_source(file, s_index, raw_source, problems, left_out)
        if source is not None:
            good_sources.append(source)

    document = {**raw, "sources": good_sources} if raw_sources else raw
    try:
        config = PipelineConfig.model_validate(document)
    except ValidationError as err:
        errors = err.errors()
        if raw_sources and not good_sources:
            # Every source was left out for reasons already reported.
            errors = [e for e in errors if tuple(e["loc"]) != ("sources",)]
        # File-level problems: nothing can be built without these sections.
        problems += [
            ConfigProblem(str(file), None, None, _field_of(tuple(e["loc"])), _message(e)) for e in errors
        ]
        left_out += [(s.name, e.name) for s in good_sources for e in s.endpoints]
        return LoadedConfig(file, None, (), tuple(problems), tuple(left_out))

    resolved: list[ResolvedEndpoint] = []
    for source in config.sources:
        for endpoint in source.endpoints:
            try:
                resolved.append(_resolve(source, endpoint))
            except ValidationError as err:
                # Typically a field neither the endpoint nor its source's defaults set.
                problems += _problems(file, err, source.name, endpoint.name)
                left_out.append((source.name, endpoint.name))
    return LoadedConfig(file, config, tuple(resolved), tuple(problems), tuple(left_out))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the YAML document is built.

    The document is thousands of fresh containers that all stay alive until it is validated, so
    the collections their allocations set off find nothing to free; worse, they advance the
    collector's generation counters, and in a task process (Airflow's imports just done) that
    brought on a full collection of ~185k objects, ~0.07 s of a 0.23 s single-DAG parse with 500
    endpoints. Reference counting still frees the document; cycles wait for the next collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_config(path: Path | str | None = None) -> LoadedConfig:
    """Read and validate the config file. Problems are returned, not raised (see raise_for_problems)."""
    file = Path(path) if path else config_path()
    try:
        # The C loader (when PyYAML has it) parses a 500-endpoint config ~5x faster: this runs at parse time.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with _gc_paused():
            raw = yaml.load(file.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        return LoadedConfig(
            file, None, (), (ConfigProblem(str(file), None, None, "<file>", "file not found"),)
        )
    except yaml.YAMLError as err:
        return LoadedConfig(
            file, None, (), (ConfigProblem(str(file), None, None, "<yaml>", _yaml_message(err)),)
        )
    return parse_config(raw, file)


def _yaml_message(err: yaml.YAMLError) -> str:
    """Where the file stops parsing, 1-based like an editor (PyYAML's marks count from 0)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    what = " ".join(
        str(part) for part in (getattr(err, "context", None), getattr(err, "problem", None)) if part
    )
    if mark is None:
        return f"the file does not parse as YAML: {err}; nothing in it is loaded"
    return (
        f"the file does not parse as YAML: line {mark.line + 1}, column {mark.column + 1}: "
        f"{what or err}; nothing in it is loaded"
    )


@lru_cache(maxsize=4)
def load_config_cached(path: str | None = None) -> LoadedConfig:
    """Parse-time entry point: the DAG files and tasks of one process share one parse."""
    return load_config(path)
