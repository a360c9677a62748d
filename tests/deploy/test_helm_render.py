"""The official Airflow chart rendered with our values by the real `helm`, checked as EKS would see it.

For dev and prod (base values + pod template + overlay + infra values from the Terraform template
with sample outputs): `helm lint --strict`, `helm template`, `kubernetes-validate --strict` for the
Kubernetes version Terraform pins, and the checks of tests/deploy/manifest_checks.py that no schema
makes. The forward check renders the next chart line (1.20) and compares its deprecation warnings
with those the chart prints for its own defaults.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import hcl, helm_render, manifest_checks
from tests.deploy.helm_checks import ENVIRONMENTS, HELM_DIR, REPO_ROOT, SAMPLE_INFRA, merged_values


@pytest.fixture(scope="session", autouse=True)
def _real_helm_and_chart() -> None:
    binary = helm_render.helm_binary()
    if not binary.is_file():
        pytest.fail(f"no helm at {binary}: run `make helm-tool` (or set GMP_HELM)")
    chart = helm_render.chart_dir(helm_render.pinned_chart_version())
    if not (chart / "Chart.yaml").is_file():
        pytest.fail(
            f"the pinned chart is not at {chart}: set GMP_AIRFLOW_CHARTS to a folder with one "
            "subfolder per chart version (helm pull apache-airflow/airflow --version X --untar)"
        )


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def rendered(request: pytest.FixtureRequest) -> tuple[str, str, list[dict[str, Any]]]:
    text = helm_render.template(request.param)
    return request.param, text, [doc for doc in yaml.safe_load_all(text) if doc]


def _find(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name)


def _airflow_cfg(docs: list[dict[str, Any]]) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(_find(docs, "ConfigMap", "airflow-config")["data"]["airflow.cfg"])
    return parser


# --- helm and the API server's schemas -----------------------------------------------------------


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_strict_passes(environment: str) -> None:
    output = helm_render.lint(environment)
    assert "0 chart(s) failed" in output, output


def test_rendered_objects_validate_for_the_eks_version(rendered) -> None:
    import kubernetes_validate

    environment, _, docs = rendered
    version = helm_render.kubernetes_version()
    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {error.message} at {list(error.path)}")
    for where, spec in manifest_checks.pod_specs(docs):
        if "[" in where:  # the pod template, checked as the Pod it becomes
            pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "task"}, "spec": spec}
            try:
                kubernetes_validate.validate(pod, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                errors.append(f"{where}: {error.message} at {list(error.path)}")
    assert not errors, f"{environment}: rejected by Kubernetes {version}'s schemas:\n" + "\n".join(errors)


# --- What the API server would reject, or a fresh install would miss ------------------------------


def test_volumes_and_mounts_are_unique_and_defined(rendered) -> None:
    environment, _, docs = rendered
    assert manifest_checks.find_volume_problems(docs) == [], environment


def test_a_second_tmp_mount_for_pgbouncer_is_caught(tmp_path: Path) -> None:
    """The 0.1 values mounted two volumes at /tmp in PgBouncer; the check must see that in real output."""
    overlay = tmp_path / "dup.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "pgbouncer": {
                    "extraVolumes": [{"name": "pgbouncer-tmp", "emptyDir": {}}],
                    "extraVolumeMounts": [{"name": "pgbouncer-tmp", "mountPath": "/tmp"}],
                }
            }
        )
    )
    output = helm_render._run_helm(
        [
            "template",
            "airflow",
            str(helm_render.chart_dir(helm_render.pinned_chart_version())),
            "-f",
            str(HELM_DIR / "values.yaml"),
            "-f",
            str(HELM_DIR / "values-pod-template.yaml"),
            "-f",
            str(overlay),
            "--show-only",
            "templates/pgbouncer/pgbouncer-deployment.yaml",
        ]
    )
    problems = manifest_checks.find_volume_problems(list(yaml.safe_load_all(output)))
    assert any("'/tmp' used 2 times" in p for p in problems), problems


def _bootstrapped_secrets(environment: str) -> set[tuple[str, str]]:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "bootstrap_secrets", HELM_DIR / "scripts" / "bootstrap_secrets.py"
    )
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    sys.modules["bootstrap_secrets"] = script  # its dataclasses look their module up while defined
    spec.loader.exec_module(script)
    values = script.merged_values(environment)
    runtime = {key: "x" for key in script.RUNTIME_KEYS} | {"admin_username": "admin", "admin_email": "a@b.c"}
    metadata_db = {"address": "db.example", "port": 5432, "db_name": "airflow"}
    secrets = script.kubernetes_secrets(
        script.SecretNames.from_values(values), "airflow", "airflow", runtime, metadata_db, values
    )
    return {(secret["kind"], secret["metadata"]["name"]) for secret in secrets}


def test_every_secret_and_configmap_a_pod_reads_exists(rendered) -> None:
    environment, _, docs = rendered
    created = _bootstrapped_secrets(environment)
    assert manifest_checks.find_missing_references(docs, created) == []
    # ... and the check can fail: without the bootstrap script's secrets, pods read missing ones.
    assert any("airflow-metadata-db" in p for p in manifest_checks.find_missing_references(docs, set()))


def test_images_are_ours_or_pinned_by_tag(rendered) -> None:
    environment, _, docs = rendered
    own = SAMPLE_INFRA["image_repository"]
    assert manifest_checks.find_bad_images(docs, own) == [], environment
    ours = {
        container["image"]
        for _, spec in manifest_checks.pod_specs(docs)
        for _, container in manifest_checks.containers(spec)
        if container["image"].startswith(own)
    }
    assert ours == {f"{own}:{helm_render.SAMPLE_IMAGE_TAG}"}


def test_every_container_requests_cpu_and_memory(rendered) -> None:
    environment, _, docs = rendered
    assert manifest_checks.find_missing_requests(docs) == [], environment


def test_service_accounts_that_touch_aws_carry_irsa_roles(rendered) -> None:
    environment, _, docs = rendered
    iam = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "iam" / "variables.tf", "variable")
    aws_accounts = set(iam["service_accounts"]["default"].values())
    assert manifest_checks.find_missing_irsa(docs, aws_accounts) == [], environment
    # Task pods run as the worker account: the only one whose role may write the lake.
    pods = manifest_checks.service_accounts_of_pods(docs)
    assert (
        pods["ConfigMap/airflow-config[pod_template_file.yaml]"]
        == iam["service_accounts"]["default"]["worker"]
    )


def test_no_plaintext_credential_in_the_output(rendered) -> None:
    environment, text, docs = rendered
    assert manifest_checks.find_plaintext_credentials(text, docs) == [], environment


def test_the_credential_check_can_fail() -> None:
    import base64

    leaky = [
        {
            "kind": "Secret",
            "metadata": {"name": "s"},
            "data": {"connection": base64.b64encode(b"postgresql://airflow:hunter22@db/airflow").decode()},
        }
    ]
    text = "env:\n  - name: X\n    value: AKIAABCDEFGHIJKLMNOP\nfernet_key = abcdefghijkl\n"
    problems = manifest_checks.find_plaintext_credentials(text, leaky)
    assert len(problems) == 3, problems


# --- A fresh install runs on schedule with no clicks ----------------------------------------------


def test_dags_are_created_unpaused(rendered) -> None:
    environment, _, docs = rendered
    assert _airflow_cfg(docs).get("core", "dags_are_paused_at_creation") == "False", environment


def test_the_scheduler_syncs_the_pools_after_the_migrations(rendered) -> None:
    environment, _, docs = rendered
    spec = _find(docs, "Deployment", "airflow-scheduler")["spec"]["template"]["spec"]
    init = [c["name"] for c in spec["initContainers"]]
    assert init.index("wait-for-airflow-migrations") < init.index("sync-pools"), init
    sync = next(c for c in spec["initContainers"] if c["name"] == "sync-pools")
    assert sync["command"] == ["gmp-pools", "sync"]
    assert sync["image"] == f"{SAMPLE_INFRA['image_repository']}:{helm_render.SAMPLE_IMAGE_TAG}"
    env = {e["name"]: e for e in sync["env"]}
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["valueFrom"]["secretKeyRef"]["name"]
        == "airflow-metadata-db"
    )


def test_the_create_user_job_waits_for_the_migrations(rendered) -> None:
    environment, _, docs = rendered
    job = _find(docs, "Job", "airflow-create-user")
    script = " ".join(job["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "airflow db check-migrations" in script and "airflow users create" in script, script
    assert script.index("airflow db check-migrations") < script.index("airflow users create")
    assert "helm.sh/hook" not in (job["metadata"].get("annotations") or {})


# --- Chart versions -------------------------------------------------------------------------------


def _deprecations(notes: str) -> set[str]:
    blocks = notes.split("DEPRECATION WARNING:")[1:]
    return {" ".join(block.split("\n\n")[0].split()) for block in blocks}


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_deprecation_warning_on_the_pinned_chart(environment: str) -> None:
    assert _deprecations(helm_render.install_notes(environment)) == set()


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_no_deprecation_warning_of_ours_on_the_next_chart_line(environment: str) -> None:
    version = helm_render.NEXT_CHART_VERSION
    if not (helm_render.chart_dir(version) / "Chart.yaml").is_file():
        pytest.skip(f"no copy of chart {version} under {helm_render.charts_dir()}")
    ours = _deprecations(helm_render.install_notes(environment, version))
    # The 1.20 snapshot warns about git-sync's probe setting with its own defaults (a key chart 1.19's
    # schema rejects); anything beyond the chart's own warnings comes from our values.
    chart_own = _deprecations(helm_render.install_notes(environment, version, defaults_only=True))
    assert ours <= chart_own, sorted(ours - chart_own)


def test_the_deprecation_check_sees_the_keys_the_old_values_used(tmp_path: Path) -> None:
    version = helm_render.NEXT_CHART_VERSION
    if not (helm_render.chart_dir(version) / "Chart.yaml").is_file():
        pytest.skip(f"no copy of chart {version} under {helm_render.charts_dir()}")
    old_keys = tmp_path / "old-keys.yaml"
    old_keys.write_text(
        yaml.safe_dump(
            {
                "workers": {"resources": {"requests": {"cpu": "1"}}, "persistence": {"enabled": False}},
                "webserver": {"defaultUser": {"enabled": True}},
            }
        )
    )
    found = _deprecations(helm_render.install_notes("dev", version, extra_files=[old_keys]))
    chart_own = _deprecations(helm_render.install_notes("dev", version, defaults_only=True))
    assert len(found - chart_own) == 3, sorted(found - chart_own)


def test_values_use_no_key_the_next_chart_line_deprecates() -> None:
    for environment in (None, *ENVIRONMENTS):
        values = merged_values(environment)
        assert "resources" not in values["workers"], "workers.resources -> workers.kubernetes.resources"
        assert "persistence" not in values["workers"], "workers.persistence is Celery-only and deprecated"
        assert "defaultUser" not in values.get("webserver", {}), "webserver.defaultUser -> createUserJob"


def test_the_pod_template_is_the_next_chart_lines() -> None:
    upstream = (
        helm_render.chart_dir(helm_render.NEXT_CHART_VERSION)
        / "files"
        / "pod-template-file.kubernetes-helm-yaml"
    )
    if not upstream.is_file():
        pytest.skip(f"no copy of chart {helm_render.NEXT_CHART_VERSION}")
    ours = yaml.safe_load((HELM_DIR / "values-pod-template.yaml").read_text())["podTemplate"]
    assert ours.strip() == upstream.read_text().strip()


def test_readme_names_the_tested_chart_versions() -> None:
    readme = (REPO_ROOT / "helm" / "README.md").read_text()
    assert helm_render.pinned_chart_version() in readme and helm_render.NEXT_CHART_VERSION in readme
    assert "1.22" in readme  # current upstream, said plainly


# --- Capacity: the task pods the rendered config can start fit the nodes Terraform allows ----------


def test_task_pods_at_full_parallelism_fit_the_autoscaled_node_pool(rendered) -> None:
    from tests.deploy import capacity

    environment, _, docs = rendered
    (template,) = [spec for where, spec in manifest_checks.pod_specs(docs) if "pod_template" in where]
    pod = capacity.pod_requests(template, "task pod template")
    pool = capacity.terraform_task_pool(environment)
    holds = capacity.pool_capacity(pool.instance_types, pod, max_vcpus=pool.max_vcpus)
    parallelism = int(_airflow_cfg(docs).get("core", "parallelism"))
    assert holds.pods >= parallelism, (
        f"{environment}: parallelism {parallelism} but the task pool holds {holds.describe()}"
    )
    # The rendered figure is the one terraform/README.md states.
    assert capacity.environment_capacity(environment).capacity.pods == holds.pods
