# syntax=docker/dockerfile:1.7
#
# The production image of game-market-pipeline: the official Apache Airflow image for our Airflow and
# Python versions, plus this package and everything the scheduler, dag-processor, triggerer and the
# KubernetesExecutor's task pods read at run time (dags/, include/, plugins/, dbt/ with the compiled
# manifest). Built and pushed to ECR as described in README.md, "Deploy to AWS".
#
# Pins: the FROM tag and AIRFLOW_VERSION equal pyproject.toml's `apache-airflow==` pin, and the runtime
# dependencies are installed from a constraints file generated from pyproject.toml's exact pins, so the
# image runs the set that was resolved and tested together. tests/deploy/test_dockerfile.py checks both.
#
# checkov: the image has no HEALTHCHECK on purpose; Kubernetes probes from helm/values.yaml watch the pods.
#checkov:skip=CKV_DOCKER_2:Kubernetes liveness/readiness/startup probes (helm/values.yaml) replace a Docker HEALTHCHECK
FROM apache/airflow:3.3.2-python3.11

# pip is told the Airflow version as well, so resolving our pins can never up- or downgrade Airflow.
ARG AIRFLOW_VERSION=3.3.2

LABEL org.opencontainers.image.title="game-market-pipeline" \
      org.opencontainers.image.description="Airflow 3 DAGs, library and dbt project of game-market-pipeline" \
      org.opencontainers.image.licenses="Apache-2.0"

# The image's default user already is `airflow` (uid 50000, gid 0); say so before anything runs.
USER airflow

# AIRFLOW_HOME mirrors the repository (dags/, include/, plugins/, dbt/), and the package is imported
# from it (PYTHONPATH): the library finds include/config/endpoints.yaml and dbt/ relative to its own
# files, exactly as in a checkout. The copy pip installs below only provides the distribution
# metadata and the gmp-* console scripts.
ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/airflow/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PYTHONPATH=/opt/airflow/include \
    GMP_CONFIG_PATH=/opt/airflow/include/config/endpoints.yaml \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# 1) Dependencies first, from pyproject.toml alone, so code changes reuse this (slow) layer.
#    The script refuses anything but exact `name==version` pins; the constraints file carries them.
WORKDIR /tmp/gmp-build
COPY --chown=airflow:0 pyproject.toml ./
RUN python - <<'PY'
import re
import sys
import tomllib

with open("pyproject.toml", "rb") as handle:
    deps = tomllib.load(handle)["project"]["dependencies"]
pin = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9_,.-]+\])?==([A-Za-z0-9._+!-]+)$")
loose = [dep for dep in deps if not pin.match(dep.replace(" ", ""))]
if loose:
    sys.exit(f"pyproject.toml runtime dependencies must be exact pins (name==version): {loose}")
with open("requirements.txt", "w") as handle:
    handle.write("\n".join(dep.replace(" ", "") for dep in deps) + "\n")
with open("constraints.txt", "w") as handle:
    # Constraints files take no extras: keep name==version only.
    handle.write("\n".join(pin.sub(r"\1==\3", dep.replace(" ", "")) for dep in deps) + "\n")
PY
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" \
        -r requirements.txt -c constraints.txt

# 2) The package itself, without touching the dependencies installed above.
COPY --chown=airflow:0 README.md ./
COPY --chown=airflow:0 include/ ./include/
RUN pip install --no-cache-dir --no-deps /tmp/gmp-build \
    && rm -rf /tmp/gmp-build

# 3) What Airflow reads from AIRFLOW_HOME: DAG files, the shared endpoint config, plugins, and the dbt
#    project with its compiled manifest (dbt/target/manifest.json, `make dbt-manifest`), which Cosmos
#    renders from without running `dbt parse` in every DAG-processor loop.
WORKDIR /opt/airflow
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 include/ /opt/airflow/include/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 dbt/ /opt/airflow/dbt/

# The FAB auth manager reads $AIRFLOW_HOME/webserver_config.py and writes a default one when it is
# missing; the pods run with a read-only root filesystem, so ship it in the image.
RUN printf '%s\n' \
        '"""FAB auth manager settings: users and roles live in the Airflow metadata database."""' \
        'from flask_appbuilder.const import AUTH_DB' \
        '' \
        'AUTH_TYPE = AUTH_DB' \
        'WTF_CSRF_ENABLED = True' \
        > /opt/airflow/webserver_config.py

USER airflow
