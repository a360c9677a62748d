"""Checks over Helm values for the official Airflow chart, as plain functions.

Each `find_*` function takes a values dict (already merged the way Helm merges values files) and
returns a list of human-readable problems; an empty list means the check passes. The tests run
them over helm/values*.yaml and over a deliberately bad values dict, so the checks can be seen
to fail.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HELM_DIR = REPO_ROOT / "helm"
ENVIRONMENTS = ("dev", "prod")
SCHEMA_ENV = "GMP_HELM_SCHEMA"
# The schema is the one inside the pinned chart (GMP_AIRFLOW_CHARTS/<version>/values.schema.json, see
# tests/deploy/helm_render.py); GMP_HELM_SCHEMA points at another file.
CHARTS_ENV = "GMP_AIRFLOW_CHARTS"
DEFAULT_CHARTS = REPO_ROOT.parent / "shared" / "airflow-helm-chart"

# Sample infrastructure values, shaped like the Terraform outputs that fill values-infra.yaml.tftpl.
SAMPLE_INFRA = {
    "image_repository": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/game-market-dev/airflow",
    "region": "eu-west-1",
    "lake_bucket": "game-market-dev-lake-123456789012-eu-west-1",
    "logs_bucket": "game-market-dev-logs-123456789012-eu-west-1",
    "logs_prefix": "airflow",
    "secrets_backend_kwargs": json.dumps(
        {
            "connections_prefix": "game-market-dev/airflow/connections",
            "connections_lookup_pattern": (
                "^(warehouse_db|lake_s3|rawg_api|tcgdex_api|pokemontcg_api|pokeapi_api)$"
            ),
            "variables_prefix": None,
            "config_prefix": None,
            "region_name": "eu-west-1",
        },
        separators=(",", ":"),
    ),
    **{
        f"{workload}_role_arn": "arn:aws:iam::123456789012:role/game-market-dev-airflow-"
        + workload.replace("_", "-")
        for workload in ("scheduler", "api_server", "dag_processor", "triggerer", "worker")
    },
}


# --- Loading and merging -------------------------------------------------------------------------


def schema_path() -> Path:
    if os.environ.get(SCHEMA_ENV):
        return Path(os.environ[SCHEMA_ENV])
    from tests.deploy import hcl

    release = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "airflow_release" / "variables.tf", "variable")
    charts = Path(os.environ.get(CHARTS_ENV) or DEFAULT_CHARTS)
    return charts / release["chart_version"]["default"] / "values.schema.json"


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: maps merge recursively; lists and scalars are replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


TEMPLATE_VARIABLE = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


def template_variables(text: str) -> set[str]:
    return set(TEMPLATE_VARIABLE.findall(text))


def render_infra_template(text: str, variables: Mapping[str, str]) -> str:
    """Render helm/values-infra.yaml.tftpl the way Terraform's templatefile() would (plain ${name})."""
    if "%{" in text:
        raise ValueError("the infra template uses Terraform directives this renderer does not support")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(f"template variable {name!r} has no value")
        return str(variables[name])

    return TEMPLATE_VARIABLE.sub(substitute, text)


def layer_files(environment: str | None) -> list[Path]:
    files = [HELM_DIR / "values.yaml", HELM_DIR / "values-pod-template.yaml"]
    if environment:
        files.append(HELM_DIR / f"values-{environment}.yaml")
    return files


def merged_values(environment: str | None, with_infra: bool = False) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in layer_files(environment):
        values = deep_merge(values, load_yaml(path))
    if with_infra:
        rendered = render_infra_template((HELM_DIR / "values-infra.yaml.tftpl").read_text(), SAMPLE_INFRA)
        values = deep_merge(values, yaml.safe_load(rendered))
    return values


def get_path(values: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    node: Any = values
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Yield (path, key, value) for every mapping entry and list item, depth first."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, str(key), value
            yield from walk(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            child = f"{path}[{index}]"
            yield child, "", value
            yield from walk(value, child)


# --- Schema --------------------------------------------------------------------------------------


def schema_errors(values: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft7Validator(schema)
    problems = [
        f"{'.'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(values), key=lambda e: list(map(str, e.absolute_path)))
    ]
    # The chart's schema leaves the top level open; a typo there would pass silently.
    known = set(schema.get("properties", {}))
    problems += [f"{key}: not a value of the chart" for key in values if key not in known]
    return problems


# --- Plaintext secrets ---------------------------------------------------------------------------

# Keys whose value is a secret when it is a non-empty string.
SECRET_KEY = re.compile(
    r"(?i)^(pass|passwd|password|.*_password|.*password$|token|.*_token|secret|.*_secret|"
    r"fernetkey|fernet_key|apisecretkey|api_secret_key|jwtsecret|jwt_secret|webserversecretkey|secret_key|"
    r"sshkey|privatekey|private_key|keytabbase64content|aws_secret_access_key|aws_session_token|"
    r"brokerurl|sql_alchemy_conn|connection)$"
)
# Keys that *name* a secret (or a key inside one) rather than hold it.
SECRET_REFERENCE_KEY = re.compile(r"(?i)(name$|^secretkey$|^secretkeyref$|^statssecretkey$)")
CREDENTIAL_URL = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")
AWS_ACCESS_KEY = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SECRET_ENV_NAME = re.compile(
    r"(?i)(password|secret|token|fernet|api_?key|access_key|_conn_|sql_alchemy_conn)"
)


def find_plaintext_secrets(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for path, key, value in walk(values):
        if isinstance(value, str) and value.strip():
            if SECRET_KEY.match(key) and not SECRET_REFERENCE_KEY.search(key):
                problems.append(f"{path}: plaintext secret value")
            if CREDENTIAL_URL.search(value):
                problems.append(f"{path}: URL with embedded credentials")
            if AWS_ACCESS_KEY.search(value):
                problems.append(f"{path}: AWS access key id")
            if PRIVATE_KEY.search(value):
                problems.append(f"{path}: private key")
        # env lists: {name: SOME_PASSWORD, value: "..."} (a valueFrom reference is fine)
        if isinstance(value, Mapping) and "name" in value and isinstance(value.get("value"), str):
            if SECRET_ENV_NAME.search(str(value["name"])) and value["value"].strip():
                problems.append(f"{path}: environment variable {value['name']} holds a secret in plaintext")
    extra_secrets = values.get("extraSecrets") or {}
    for name, secret in extra_secrets.items():
        if isinstance(secret, Mapping) and (secret.get("data") or secret.get("stringData")):
            problems.append(f"extraSecrets.{name}: secret data in values")
    return problems


# --- Image pinning -------------------------------------------------------------------------------

# images.* entries whose null tag falls back to defaultAirflowTag.
AIRFLOW_IMAGES = {"airflow", "pod_template", "flower"}


def _chart_expression(image: Any) -> bool:
    """`{{ template "airflow_image" . }}`: the chart's own image, checked after rendering."""
    return isinstance(image, str) and image.strip().startswith("{{")


def _unpinned(tag: Any) -> bool:
    return not isinstance(tag, str) or not tag.strip() or tag.strip().lower() == "latest"


def find_unpinned_images(values: Mapping[str, Any]) -> list[str]:
    problems = []
    if not values.get("defaultAirflowDigest") and _unpinned(values.get("defaultAirflowTag")):
        problems.append(f"defaultAirflowTag: {values.get('defaultAirflowTag')!r} is not a pinned tag")
    for name, image in (values.get("images") or {}).items():
        if not isinstance(image, Mapping) or not ({"repository", "tag", "digest"} & set(image)):
            continue
        if image.get("digest"):
            continue
        tag = image.get("tag")
        if tag is None and name in AIRFLOW_IMAGES:
            continue  # falls back to defaultAirflowTag, checked above
        if tag is None and "repository" not in image:
            continue  # the chart's own pinned default
        if _unpinned(tag):
            problems.append(f"images.{name}.tag: {tag!r} is not a pinned tag")
    for path, key, value in walk(values):
        if key == "image" and isinstance(value, str) and not _chart_expression(value):
            last = value.rsplit("/", 1)[-1]
            if "@sha256:" not in value and (":" not in last or last.endswith(":latest")):
                problems.append(f"{path}: image {value!r} is not pinned to a tag or digest")
    return problems


# --- Resource requests ---------------------------------------------------------------------------


def _enabled(values: Mapping[str, Any], path: str, default: bool) -> bool:
    flag = get_path(values, f"{path}.enabled")
    return default if flag is None else bool(flag)


def deployed_containers(values: Mapping[str, Any]) -> list[str]:
    """Dotted paths of every container group the values deploy (each needs resource requests)."""
    executor = str(values.get("executor", "CeleryExecutor"))
    paths = ["scheduler"] if _enabled(values, "scheduler", True) else []
    paths.append("apiServer")
    if _enabled(values, "dagProcessor", True):
        paths.append("dagProcessor")
    if _enabled(values, "triggerer", True):
        paths.append("triggerer")
    if "KubernetesExecutor" in executor:
        # The task pods' shape: chart 1.20's key, read by helm/values-pod-template.yaml on 1.19 too.
        paths.append("workers.kubernetes")
    elif "CeleryExecutor" in executor:
        paths.append("workers")
    if _enabled(values, "migrateDatabaseJob", True):
        paths.append("migrateDatabaseJob")
    if _enabled(values, "apiServer.defaultUser", True) or _enabled(values, "webserver.defaultUser", True):
        paths.append("createUserJob")
    if _enabled(values, "pgbouncer", False):
        paths += ["pgbouncer", "pgbouncer.metricsExporterSidecar"]
    if _enabled(values, "statsd", True):
        paths.append("statsd")
    if _enabled(values, "redis", True) and "CeleryExecutor" in executor:
        paths.append("redis")
    if _enabled(values, "flower", False) and "CeleryExecutor" in executor:
        paths.append("flower")
    if _enabled(values, "cleanup", False):
        paths.append("cleanup")
    for component in ("scheduler", "triggerer", "dagProcessor", "workers"):
        if (component in paths or f"{component}.kubernetes" in paths) and _enabled(
            values, f"{component}.logGroomerSidecar", True
        ):
            paths.append(f"{component}.logGroomerSidecar")
    return paths


def find_missing_requests(values: Mapping[str, Any]) -> list[str]:
    problems = []
    for path in deployed_containers(values):
        requests = get_path(values, f"{path}.resources.requests") or {}
        for resource in ("cpu", "memory"):
            if not requests.get(resource):
                problems.append(f"{path}.resources.requests.{resource}: missing")
    return problems


# --- Security contexts ---------------------------------------------------------------------------

# Components whose pods use the chart's Airflow helpers (fall back to the global securityContexts).
AIRFLOW_PODS = (
    "scheduler",
    "apiServer",
    "dagProcessor",
    "triggerer",
    "workers",
    "migrateDatabaseJob",
    "createUserJob",
    "cleanup",
)
# Components with their own uid and no global fallback.
LOCAL_PODS = ("pgbouncer", "statsd", "redis")


def _root_settings(context: Mapping[str, Any], where: str) -> list[str]:
    problems = []
    if context.get("runAsUser") == 0:
        problems.append(f"{where}.runAsUser: 0 (root)")
    if context.get("runAsNonRoot") is False:
        problems.append(f"{where}.runAsNonRoot: false")
    if context.get("privileged") is True:
        problems.append(f"{where}.privileged: true")
    if context.get("allowPrivilegeEscalation") is True:
        problems.append(f"{where}.allowPrivilegeEscalation: true")
    added = get_path(context, "capabilities.add") or []
    if any(str(cap).upper() in ("ALL", "SYS_ADMIN", "NET_ADMIN") for cap in added):
        problems.append(f"{where}.capabilities.add: {added}")
    return problems


def find_root_security_contexts(values: Mapping[str, Any]) -> list[str]:
    problems = []
    # 1) Nothing anywhere may ask for root.
    for path, key, value in walk(values):
        if key in ("securityContext", "pod", "container", "containers") and isinstance(value, Mapping):
            if (
                key == "securityContext"
                or ".securityContexts." in f".{path}"
                or path.startswith("securityContexts")
            ):
                problems += _root_settings(value, path)
        if key == "uid" and value == 0:
            problems.append(f"{path}: 0 (root)")
    # 2) Every deployed pod must say explicitly that it runs as non-root without escalation.
    deployed = set(deployed_containers(values))
    global_pod = get_path(values, "securityContexts.pod") or {}
    global_container = (
        get_path(values, "securityContexts.containers")
        or get_path(values, "securityContexts.container")
        or {}
    )
    for component in AIRFLOW_PODS + LOCAL_PODS:
        if component not in deployed:
            continue
        fallback_pod = global_pod if component in AIRFLOW_PODS else {}
        fallback_container = global_container if component in AIRFLOW_PODS else {}
        pod = get_path(values, f"{component}.securityContexts.pod") or fallback_pod
        container = get_path(values, f"{component}.securityContexts.container") or fallback_container
        if pod.get("runAsNonRoot") is not True or pod.get("runAsUser") in (None, 0):
            problems.append(
                f"{component}: pod security context must set runAsNonRoot: true and a non-zero runAsUser"
            )
        if container.get("allowPrivilegeEscalation") is not False:
            problems.append(
                f"{component}: container security context must set allowPrivilegeEscalation: false"
            )
    return problems


def check_all(values: Mapping[str, Any]) -> dict[str, list[str]]:
    return {
        "plaintext secrets": find_plaintext_secrets(values),
        "unpinned images": find_unpinned_images(values),
        "missing resource requests": find_missing_requests(values),
        "root security contexts": find_root_security_contexts(values),
    }
