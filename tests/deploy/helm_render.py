"""Render the official Airflow chart with our values, using the real `helm` binary.

Where things come from:
- helm: `GMP_HELM` (set by `make`), else `.tools/helm-<version>/helm` (`make helm-tool`).
- the chart: `GMP_AIRFLOW_CHARTS/<version>/`, one folder per chart version, defaulting to the copies
  in `../shared/airflow-helm-chart/` (with internet: `helm pull apache-airflow/airflow --version X
  --untar --untardir "$GMP_AIRFLOW_CHARTS/X"`).
- the pinned chart version: terraform/modules/airflow_release's `chart_version` default, which the
  env roots, helm/README.md and README.md must repeat (test_helm_values checks that).
- the Kubernetes version: terraform/modules/platform's `kubernetes_version` (what EKS runs).

`python -m tests.deploy.helm_render dev` prints the rendered manifests (`make helm-template`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy import hcl
from tests.deploy.helm_checks import HELM_DIR, REPO_ROOT, SAMPLE_INFRA, render_infra_template

HELM_VERSION = "4.1.4"
CHARTS_ENV = "GMP_AIRFLOW_CHARTS"
HELM_ENV = "GMP_HELM"
DEFAULT_CHARTS = REPO_ROOT.parent / "shared" / "airflow-helm-chart"
# The next chart line, checked for forward compatibility (deprecations) when its copy is present.
NEXT_CHART_VERSION = "1.20.0-dev"
RELEASE = "airflow"
NAMESPACE = "airflow"
SAMPLE_IMAGE_TAG = "0f3c2a9b1d7e"


class HelmError(RuntimeError):
    pass


def helm_binary() -> Path:
    return Path(os.environ.get(HELM_ENV) or REPO_ROOT / ".tools" / f"helm-{HELM_VERSION}" / "helm")


def charts_dir() -> Path:
    return Path(os.environ.get(CHARTS_ENV) or DEFAULT_CHARTS)


def chart_dir(version: str) -> Path:
    return charts_dir() / version


@cache
def pinned_chart_version() -> str:
    variables = hcl.blocks(hcl.TERRAFORM_DIR / "modules" / "airflow_release" / "variables.tf", "variable")
    return variables["chart_version"]["default"]


def kubernetes_version() -> str:
    return hcl.kubernetes_version()


def value_files(environment: str, infra_file: Path) -> list[Path]:
    """The `-f` layers of a deploy, in helm/README.md's order."""
    return [
        HELM_DIR / "values.yaml",
        HELM_DIR / "values-pod-template.yaml",
        HELM_DIR / f"values-{environment}.yaml",
        infra_file,
    ]


def _run_helm(args: list[str]) -> str:
    result = subprocess.run([str(helm_binary()), *args], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise HelmError(f"helm {' '.join(args[:2])} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result.stdout


def _helm_with_values(
    command: list[str], environment: str, chart_version: str, extra: list[str], extra_files: list[Path] = ()
) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        infra = Path(tmp) / f"infra-{environment}.yaml"
        infra.write_text(
            render_infra_template((HELM_DIR / "values-infra.yaml.tftpl").read_text(), SAMPLE_INFRA)
        )
        args = [*command]
        for path in [*value_files(environment, infra), *extra_files]:
            args += ["-f", str(path)]
        args += ["--set-string", f"defaultAirflowTag={SAMPLE_IMAGE_TAG}", *extra]
        return _run_helm(args)


def template(environment: str, chart_version: str | None = None) -> str:
    version = chart_version or pinned_chart_version()
    return _helm_with_values(
        ["template", RELEASE, str(chart_dir(version)), "--namespace", NAMESPACE],
        environment,
        version,
        ["--kube-version", kubernetes_version()],
    )


def manifests(environment: str, chart_version: str | None = None) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(template(environment, chart_version)) if doc]


def install_notes(
    environment: str,
    chart_version: str | None = None,
    defaults_only: bool = False,
    extra_files: list[Path] = (),
) -> str:
    """The NOTES a `helm install` prints (deprecation warnings live there), without a cluster."""
    version = chart_version or pinned_chart_version()
    command = ["install", RELEASE, str(chart_dir(version)), "--namespace", NAMESPACE, "--dry-run=client"]
    if defaults_only:
        # The chart's own defaults plus only what it needs to render Airflow 3 at all.
        output = _run_helm([*command, "--set-string", "airflowVersion=3.3.2"])
    else:
        output = _helm_with_values(command, environment, version, [], list(extra_files))
    return output.split("\nNOTES:\n", 1)[1] if "\nNOTES:\n" in output else ""


def lint(environment: str, chart_version: str | None = None) -> str:
    version = chart_version or pinned_chart_version()
    return _helm_with_values(
        ["lint", "--strict", str(chart_dir(version)), "--namespace", NAMESPACE],
        environment,
        version,
        ["--kube-version", kubernetes_version()],
    )


if __name__ == "__main__":
    environment = sys.argv[1] if len(sys.argv) > 1 else "dev"
    sys.stdout.write(template(environment, sys.argv[2] if len(sys.argv) > 2 else None))
