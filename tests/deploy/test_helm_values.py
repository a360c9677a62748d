"""helm/values*.yaml: valid for the official chart, no secrets, pinned images, requests, non-root.

Every environment is checked the way Helm sees it: values.yaml, then values-<env>.yaml, then the
infra values Terraform renders (with sample ARNs), merged like `helm -f a -f b -f c` merges them.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from typing import Any

import pytest
import yaml

from tests.deploy import hcl
from tests.deploy.helm_checks import (
    ENVIRONMENTS,
    HELM_DIR,
    REPO_ROOT,
    SAMPLE_INFRA,
    check_all,
    find_missing_requests,
    find_plaintext_secrets,
    find_root_security_contexts,
    find_unpinned_images,
    get_path,
    load_yaml,
    merged_values,
    render_infra_template,
    schema_errors,
    schema_path,
    template_variables,
)

LAYERS = [(None, False), (None, True)] + [(env, infra) for env in ENVIRONMENTS for infra in (False, True)]
LAYER_IDS = [f"{env or 'base'}{'+infra' if infra else ''}" for env, infra in LAYERS]
CONNECTION_IDS = {"warehouse_db", "lake_s3", "rawg_api", "tcgdex_api", "pokemontcg_api", "pokeapi_api"}
IRSA_COMPONENTS = ("scheduler", "apiServer", "dagProcessor", "triggerer", "workers")
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    path = schema_path()
    if not path.is_file():
        pytest.skip(
            f"the Airflow chart's values.schema.json is not at {path} (set GMP_HELM_SCHEMA to its path)"
        )
    return json.loads(path.read_text())


# --- Schema --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "with_infra"), LAYERS, ids=LAYER_IDS)
def test_values_validate_against_chart_schema(
    schema: dict[str, Any], environment: str | None, with_infra: bool
) -> None:
    errors = schema_errors(merged_values(environment, with_infra), schema)
    assert not errors, "values do not validate against the chart's schema:\n" + "\n".join(errors)


def test_schema_check_can_fail(schema: dict[str, Any]) -> None:
    values = merged_values("dev")
    values["scheduler"]["replicaz"] = 2  # typo inside a component
    values["schedular"] = {}  # typo at the (open) top level
    values["executor"] = "SomethingExecutorX"
    errors = "\n".join(schema_errors(values, schema))
    assert "replicaz" in errors and "schedular" in errors and "executor" in errors


# --- The four hard rules -------------------------------------------------------------------------


@pytest.mark.parametrize(("environment", "with_infra"), LAYERS, ids=LAYER_IDS)
def test_values_pass_every_check(environment: str | None, with_infra: bool) -> None:
    problems = {
        name: found for name, found in check_all(merged_values(environment, with_infra)).items() if found
    }
    assert not problems, json.dumps(problems, indent=1)


@pytest.mark.parametrize("path", sorted(HELM_DIR.glob("values*.yaml")), ids=lambda p: p.name)
def test_each_values_file_alone_has_no_plaintext_secret(path) -> None:
    assert not find_plaintext_secrets(load_yaml(path))


def test_infra_template_has_no_plaintext_secret() -> None:
    rendered = yaml.safe_load(
        render_infra_template((HELM_DIR / "values-infra.yaml.tftpl").read_text(), SAMPLE_INFRA)
    )
    assert not find_plaintext_secrets(rendered)


def bad_values() -> dict[str, Any]:
    values = copy.deepcopy(merged_values("dev"))
    values["data"]["metadataConnection"] = {
        "user": "airflow",
        "pass": "hunter2",
        "host": "db",
        "db": "airflow",
    }
    values["webserverSecretKey"] = "not-so-secret"
    values["env"] = [{"name": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "value": "postgresql://u:p@db/airflow"}]
    values["images"]["airflow"] = {"repository": "apache/airflow", "tag": "latest"}
    values["defaultAirflowTag"] = "latest"
    values["scheduler"]["securityContexts"] = {
        "pod": {"runAsUser": 0},
        "container": {"allowPrivilegeEscalation": True},
    }
    values["apiServer"]["resources"] = {}
    values["triggerer"]["resources"] = {"limits": {"memory": "1Gi"}}
    return values


def test_checks_catch_deliberately_bad_values() -> None:
    values = bad_values()
    secrets = "\n".join(find_plaintext_secrets(values))
    assert "data.metadataConnection.pass" in secrets
    assert "webserverSecretKey" in secrets
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in secrets or "embedded credentials" in secrets

    images = "\n".join(find_unpinned_images(values))
    assert "images.airflow.tag" in images and "defaultAirflowTag" in images

    requests = "\n".join(find_missing_requests(values))
    assert "apiServer.resources.requests.cpu" in requests
    assert "triggerer.resources.requests.memory" in requests

    root = "\n".join(find_root_security_contexts(values))
    assert "scheduler.securityContexts.pod.runAsUser: 0" in root
    assert "allowPrivilegeEscalation: true" in root


def test_checks_catch_root_by_omission_and_unpinned_sidecar_images() -> None:
    values = copy.deepcopy(merged_values("prod"))
    del values["securityContexts"]
    del values["scheduler"]["securityContexts"]
    values["scheduler"]["extraContainers"] = [{"name": "sidecar", "image": "busybox"}]
    values["pgbouncer"]["uid"] = 0
    assert any(p.startswith("scheduler: pod security context") for p in find_root_security_contexts(values))
    assert any("pgbouncer.uid" in p for p in find_root_security_contexts(values))
    assert any("busybox" in p for p in find_unpinned_images(values))


# --- What the deployment needs -------------------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_executor_components_and_pgbouncer(environment: str) -> None:
    values = merged_values(environment, with_infra=True)
    assert values["executor"] == "KubernetesExecutor"
    assert values["dagProcessor"]["enabled"] is True
    assert values["triggerer"]["enabled"] is True  # our sensors defer
    assert values["pgbouncer"]["enabled"] is True
    assert values["postgresql"]["enabled"] is False and values["redis"]["enabled"] is False
    for component, probes in {
        "scheduler": ("livenessProbe", "startupProbe"),
        "apiServer": ("livenessProbe", "readinessProbe", "startupProbe"),
        "dagProcessor": ("livenessProbe",),
        "triggerer": ("livenessProbe",),
    }.items():
        for probe in probes:
            assert values[component].get(probe), f"{component}.{probe} missing"
    for component in ("apiServer", "scheduler", "pgbouncer"):
        assert values[component]["podDisruptionBudget"]["enabled"] is True


def test_prod_runs_two_of_everything_that_can() -> None:
    values = merged_values("prod")
    for component in ("apiServer", "scheduler", "triggerer", "pgbouncer"):
        assert values[component]["replicas"] >= 2, component
        assert (
            values[component]["podDisruptionBudget"]["enabled"]
            if "podDisruptionBudget" in values[component]
            else True
        )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_jobs_work_under_helm_wait(environment: str) -> None:
    values = merged_values(environment)
    for job in ("migrateDatabaseJob", "createUserJob"):
        assert values[job]["useHelmHooks"] is False, job
        assert values[job]["applyCustomEnv"] is False, job
        assert values[job]["ttlSecondsAfterFinished"] > 0, job
    args = " ".join(values["createUserJob"]["args"])
    assert "/opt/airflow/secrets/admin-user/password" in args
    mounts = {m["name"]: m["mountPath"] for m in values["createUserJob"]["extraVolumeMounts"]}
    assert mounts["admin-user"] == "/opt/airflow/secrets/admin-user"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_credentials_come_from_kubernetes_secrets_by_name(environment: str) -> None:
    values = merged_values(environment)
    for key in (
        "data.metadataSecretName",
        "fernetKeySecretName",
        "apiSecretKeySecretName",
        "jwtSecretName",
        "pgbouncer.configSecretName",
        "pgbouncer.metricsExporterSidecar.statsSecretName",
    ):
        assert isinstance(get_path(values, key), str) and get_path(values, key), key
    for key in ("data.metadataConnection", "fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert get_path(values, key) is None, f"{key} must not be set: reference a secret by name"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_connections_from_secrets_manager_and_aws_through_irsa(environment: str) -> None:
    values = merged_values(environment, with_infra=True)
    assert values["config"]["secrets"]["backend"] == (
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    )
    kwargs = json.loads(values["config"]["secrets"]["backend_kwargs"])
    assert kwargs["connections_prefix"].endswith("airflow/connections")
    assert set(re.findall(r"[a-z0-9_]+", kwargs["connections_lookup_pattern"])) == CONNECTION_IDS
    assert kwargs["variables_prefix"] is None and kwargs["config_prefix"] is None
    for component in IRSA_COMPONENTS:
        annotations = values[component]["serviceAccount"].get("annotations", {})
        assert annotations.get(ROLE_ANNOTATION, "").startswith("arn:aws:iam::"), component
    env_names = {item["name"] for item in values.get("env", [])}
    assert not env_names & {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_connection_ids_match_the_shared_config() -> None:
    config = yaml.safe_load((REPO_ROOT / "include" / "config" / "endpoints.yaml").read_text())
    configured = {config["warehouse"]["connection_id"], config["lake"]["connection_id"]}
    configured |= {source["connection_id"] for source in config["sources"]}
    assert configured == CONNECTION_IDS
    platform_vars = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "platform" / "variables.tf", "variable")
    assert set(platform_vars["connection_ids"]["default"]) == CONNECTION_IDS


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_remote_task_logs_to_s3_through_irsa(environment: str) -> None:
    logging = merged_values(environment, with_infra=True)["config"]["logging"]
    assert logging["remote_logging"] == "True"
    assert logging["remote_base_log_folder"].startswith("s3://")
    assert logging["remote_log_conn_id"] == ""  # no connection: the pod's web identity


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_read_only_root_filesystem_with_writable_tmp(environment: str) -> None:
    values = merged_values(environment)
    for component in (
        "scheduler",
        "apiServer",
        "dagProcessor",
        "triggerer",
        "workers",
        "migrateDatabaseJob",
        "createUserJob",
        "pgbouncer",
        "statsd",
    ):
        container = values[component]["securityContexts"]["container"]
        assert container["readOnlyRootFilesystem"] is True, component
        assert container["capabilities"]["drop"] == ["ALL"], component
    assert {"name": "tmp", "mountPath": "/tmp"} in values["volumeMounts"]
    assert values["securityContexts"]["containers"]["readOnlyRootFilesystem"] is True


def test_service_accounts_match_the_irsa_roles() -> None:
    values = merged_values(None)
    iam_vars = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "iam" / "variables.tf", "variable")
    expected = iam_vars["service_accounts"]["default"]
    actual = {
        "scheduler": values["scheduler"]["serviceAccount"]["name"],
        "api_server": values["apiServer"]["serviceAccount"]["name"],
        "dag_processor": values["dagProcessor"]["serviceAccount"]["name"],
        "triggerer": values["triggerer"]["serviceAccount"]["name"],
        "worker": values["workers"]["serviceAccount"]["name"],
    }
    assert actual == expected


def test_infra_template_variables_are_the_ones_terraform_passes() -> None:
    template = (HELM_DIR / "values-infra.yaml.tftpl").read_text()
    platform = hcl.load(hcl.TERRAFORM_DIR / "modules" / "platform" / "main.tf")
    call = next(local["helm_infra_values"] for local in platform["locals"] if "helm_infra_values" in local)
    passed = set(re.findall(r"([a-z_]+)\s*=", call.split("values-infra.yaml.tftpl", 1)[1]))
    assert template_variables(template) == passed == set(SAMPLE_INFRA)


def test_airflow_version_matches_pyproject_and_dockerfile() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    pin = next(
        d.split("==")[1] for d in pyproject["project"]["dependencies"] if d.startswith("apache-airflow==")
    )
    assert merged_values(None)["airflowVersion"] == pin
    assert f"FROM apache/airflow:{pin}-python3.11" in (REPO_ROOT / "Dockerfile").read_text()


def test_chart_version_is_pinned_the_same_everywhere() -> None:
    readme = (HELM_DIR / "README.md").read_text()
    readme_versions = set(re.findall(r"--version (\d+\.\d+\.\d+)", readme))
    assert len(readme_versions) == 1
    (version,) = readme_versions
    release_vars = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "airflow_release" / "variables.tf", "variable")
    assert release_vars["chart_version"]["default"] == version
    for env_dir in hcl.env_dirs():
        assert hcl.blocks(env_dir / "variables.tf", "variable")["chart_version"]["default"] == version
    deployment = (REPO_ROOT / "docs" / "DEPLOYMENT.md").read_text()
    assert set(re.findall(r"--version (\d+\.\d+\.\d+)", deployment)) == {version}
