"""Create, idempotently, every secret the Airflow release needs, from AWS Secrets Manager.

    .venv/bin/python helm/scripts/bootstrap_secrets.py dev            # or prod
    .venv/bin/python helm/scripts/bootstrap_secrets.py dev --dry-run  # names only, changes nothing

What it does, in order (every step is safe to re-run):

1. The runtime secret `<project>-<env>/airflow/runtime` in Secrets Manager: Fernet key, API secret
   key, JWT secret, the admin user, and the passwords of the two database app users. Generated once;
   later runs reuse the stored values (Secrets Manager is the source of truth, Kubernetes a copy).
2. The database roles, by a short-lived psql pod inside the cluster (the databases are private):
   `airflow` on the Airflow metadata database, `gmp_pipeline` on the warehouse. The RDS master
   passwords are read from the secrets RDS manages; they never leave AWS and the pod.
3. The Kubernetes secrets the Helm values name (helm/values.yaml is read for the names): the
   metadata connection (through PgBouncer), PgBouncer's pgbouncer.ini/users.txt and stats
   connection, Fernet key, API secret key, JWT secret, admin user.
4. The Airflow connections that need no third-party key, unless they already have a value:
   warehouse_db, lake_s3, tcgdex_api, pokeapi_api. rawg_api and pokemontcg_api carry API keys: put
   them yourself (README.md, "Deploy to AWS"); the script lists what is still missing.

No secret value is printed, written to disk or passed as a command-line argument: values travel
to `aws` and `kubectl` on stdin. Needs `terraform` (the env root's outputs), `aws` and `kubectl`.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
HELM_DIR = REPO_ROOT / "helm"
ENDPOINTS_YAML = REPO_ROOT / "include" / "config" / "endpoints.yaml"

PSQL_IMAGE = "postgres:16.9-alpine"
PSQL_UID = 70  # the postgres user of the alpine image
METADATA_APP_USER = "airflow"
WAREHOUSE_APP_USER = "gmp_pipeline"
PGBOUNCER_PORT = 6543
# These connections carry a third-party API key: the operator puts them (README, "Deploy to AWS").
KEYED_CONNECTIONS = ("rawg_api", "pokemontcg_api")
RUNTIME_KEYS = (
    "fernet_key",
    "api_secret_key",
    "jwt_secret",
    "admin_username",
    "admin_email",
    "admin_password",
    "metadata_db_password",
    "warehouse_db_password",
)


# --- Values ----------------------------------------------------------------------------------------


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Merge like Helm merges values files: maps recursively, everything else (lists too) replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merged_values(environment: str, helm_dir: Path = HELM_DIR) -> dict[str, Any]:
    base = yaml.safe_load((helm_dir / "values.yaml").read_text()) or {}
    overlay = yaml.safe_load((helm_dir / f"values-{environment}.yaml").read_text()) or {}
    return deep_merge(base, overlay)


@dataclass(frozen=True)
class SecretNames:
    """Names of the Kubernetes secrets, as helm/values.yaml references them."""

    metadata: str
    pgbouncer_config: str
    pgbouncer_stats: str
    fernet_key: str
    api_secret_key: str
    jwt_secret: str
    admin_user: str

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> SecretNames:
        admin_volumes = [
            volume["secret"]["secretName"]
            for volume in values["createUserJob"].get("extraVolumes", [])
            if volume.get("name") == "admin-user"
        ]
        if len(admin_volumes) != 1:
            raise ValueError("createUserJob.extraVolumes must mount exactly one `admin-user` secret")
        return cls(
            metadata=values["data"]["metadataSecretName"],
            pgbouncer_config=values["pgbouncer"]["configSecretName"],
            pgbouncer_stats=values["pgbouncer"]["metricsExporterSidecar"]["statsSecretName"],
            fernet_key=values["fernetKeySecretName"],
            api_secret_key=values["apiSecretKeySecretName"],
            jwt_secret=values["jwtSecretName"],
            admin_user=admin_volumes[0],
        )


# --- Pure builders (unit-tested) -----------------------------------------------------------------


def complete_runtime(existing: Mapping[str, str], admin_email: str) -> tuple[dict[str, str], bool]:
    """Fill in whatever the runtime secret lacks; return it and whether anything was added."""
    generators: dict[str, Callable[[], str]] = {
        "fernet_key": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "api_secret_key": lambda: secrets.token_urlsafe(48),
        "jwt_secret": lambda: secrets.token_urlsafe(64),
        "admin_username": lambda: "admin",
        "admin_email": lambda: admin_email,
        "admin_password": lambda: secrets.token_urlsafe(24),
        "metadata_db_password": lambda: secrets.token_urlsafe(32),
        "warehouse_db_password": lambda: secrets.token_urlsafe(32),
    }
    runtime = dict(existing)
    added = False
    for key in RUNTIME_KEYS:
        if not runtime.get(key):
            runtime[key] = generators[key]()
            added = True
    return runtime, added


def pgbouncer_host(release: str, namespace: str) -> str:
    return f"{release}-pgbouncer.{namespace}"


def metadata_connection_url(release: str, namespace: str, password: str) -> str:
    """Airflow -> PgBouncer (in-cluster); PgBouncer -> RDS is TLS (server_tls_sslmode)."""
    return (
        f"postgresql://{quote(METADATA_APP_USER, safe='')}:{quote(password, safe='')}"
        f"@{pgbouncer_host(release, namespace)}:{PGBOUNCER_PORT}/{release}-metadata"
    )


def pgbouncer_ini(release: str, metadata: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """The pgbouncer.ini the chart would render itself if it knew the credentials."""
    pgbouncer = values["pgbouncer"]
    return "\n".join(
        [
            "[databases]",
            f"{release}-metadata = host={metadata['address']} dbname={metadata['db_name']} "
            f"port={metadata['port']} pool_size={pgbouncer.get('metadataPoolSize', 10)}",
            "",
            "[pgbouncer]",
            "pool_mode = transaction",
            f"listen_port = {PGBOUNCER_PORT}",
            "listen_addr = *",
            f"auth_type = {pgbouncer.get('auth_type', 'scram-sha-256')}",
            "auth_file = /etc/pgbouncer/users.txt",
            f"stats_users = {METADATA_APP_USER}",
            "ignore_startup_parameters = extra_float_digits",
            f"max_client_conn = {pgbouncer.get('maxClientConn', 100)}",
            "verbose = 0",
            "log_disconnections = 0",
            "log_connections = 0",
            f"server_tls_sslmode = {pgbouncer.get('sslmode', 'require')}",
            "server_tls_ciphers = normal",
            "",
        ]
    )


def secret_manifest(name: str, namespace: str, string_data: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "bootstrap_secrets.py", "tier": "airflow"},
        },
        "stringData": dict(string_data),
    }


def kubernetes_secrets(
    names: SecretNames,
    release: str,
    namespace: str,
    runtime: Mapping[str, str],
    metadata_db: Mapping[str, Any],
    values: Mapping[str, Any],
) -> list[dict[str, Any]]:
    password = runtime["metadata_db_password"]
    stats_url = (
        f"postgresql://{quote(METADATA_APP_USER, safe='')}:{quote(password, safe='')}"
        f"@127.0.0.1:{PGBOUNCER_PORT}/pgbouncer?sslmode=disable"
    )
    return [
        secret_manifest(
            names.metadata, namespace, {"connection": metadata_connection_url(release, namespace, password)}
        ),
        secret_manifest(
            names.pgbouncer_config,
            namespace,
            {
                "pgbouncer.ini": pgbouncer_ini(release, metadata_db, values),
                "users.txt": f'"{METADATA_APP_USER}" "{password}"\n',
            },
        ),
        secret_manifest(names.pgbouncer_stats, namespace, {"connection": stats_url}),
        secret_manifest(names.fernet_key, namespace, {"fernet-key": runtime["fernet_key"]}),
        secret_manifest(
            names.api_secret_key,
            namespace,
            {"api-secret-key": runtime["api_secret_key"], "webserver-secret-key": runtime["api_secret_key"]},
        ),
        secret_manifest(names.jwt_secret, namespace, {"jwt-secret": runtime["jwt_secret"]}),
        secret_manifest(
            names.admin_user,
            namespace,
            {
                "username": runtime["admin_username"],
                "email": runtime["admin_email"],
                "password": runtime["admin_password"],
            },
        ),
    ]


def keyless_connections(
    region: str,
    warehouse_db: Mapping[str, Any],
    runtime: Mapping[str, str],
    endpoints_yaml: Path = ENDPOINTS_YAML,
) -> dict[str, dict[str, Any]]:
    """Connection JSON (the SecretsManagerBackend format) of every connection without an API key."""
    config = yaml.safe_load(endpoints_yaml.read_text())
    connections: dict[str, dict[str, Any]] = {
        "warehouse_db": {
            "conn_type": "postgres",
            "host": warehouse_db["address"],
            "port": int(warehouse_db["port"]),
            "login": WAREHOUSE_APP_USER,
            "password": runtime["warehouse_db_password"],
            "schema": warehouse_db["db_name"],
            "extra": {"sslmode": "require"},
        },
        # No keys: boto3 uses the pod's IRSA web identity.
        "lake_s3": {"conn_type": "aws", "extra": {"region_name": region}},
    }
    for source in config["sources"]:
        if source["connection_id"] in KEYED_CONNECTIONS or source.get("auth", {}).get("kind") != "none":
            continue
        connections[source["connection_id"]] = {"conn_type": "http", "host": source["base_url"]}
    return connections


DB_BOOTSTRAP_SCRIPT = r"""
set -eu
bootstrap() {
  PGHOST="$1" PGPORT="$2" PGDATABASE="$3" PGUSER="$4" PGPASSWORD="$5" PGSSLMODE=require \
  psql -v ON_ERROR_STOP=1 -v app_user="$6" -v app_password="$7" -v db_name="$3" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
ALTER ROLE :"app_user" WITH LOGIN PASSWORD :'app_password';
GRANT CONNECT, CREATE, TEMPORARY ON DATABASE :"db_name" TO :"app_user";
GRANT ALL ON SCHEMA public TO :"app_user";
SQL
  echo "role $6 ready on $3"
}
bootstrap "$META_HOST" "$META_PORT" "$META_DB" "$META_MASTER_USER" "$META_MASTER_PASSWORD" \
  "$META_APP_USER" "$META_APP_PASSWORD"
bootstrap "$WH_HOST" "$WH_PORT" "$WH_DB" "$WH_MASTER_USER" "$WH_MASTER_PASSWORD" \
  "$WH_APP_USER" "$WH_APP_PASSWORD"
"""


def db_bootstrap_pod(name: str, namespace: str, env_secret: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": name}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": PSQL_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "psql",
                    "image": PSQL_IMAGE,
                    "command": ["sh", "-c", DB_BOOTSTRAP_SCRIPT],
                    "envFrom": [{"secretRef": {"name": env_secret}}],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"memory": "128Mi"},
                    },
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }


# --- Side effects --------------------------------------------------------------------------------


class Cli:
    """Runs terraform/aws/kubectl. Secret values only ever go in through `stdin`."""

    def run(
        self, args: list[str], stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, input=stdin, capture_output=True, text=True, check=check)


def _log(message: str) -> None:
    print(f"[bootstrap-secrets] {message}", flush=True)


def terraform_outputs(cli: Cli, tf_dir: Path) -> dict[str, Any]:
    raw = json.loads(cli.run(["terraform", f"-chdir={tf_dir}", "output", "-json"]).stdout)
    return {name: output["value"] for name, output in raw.items()}


def read_secret_json(cli: Cli, secret_id: str, region: str) -> dict[str, Any] | None:
    result = cli.run(
        [
            "aws",
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            secret_id,
            "--region",
            region,
            "--query",
            "SecretString",
            "--output",
            "text",
        ],
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return json.loads(result.stdout)


def put_secret_json(cli: Cli, secret_id: str, region: str, value: Mapping[str, Any]) -> None:
    cli.run(
        [
            "aws",
            "secretsmanager",
            "put-secret-value",
            "--secret-id",
            secret_id,
            "--region",
            region,
            "--secret-string",
            "file:///dev/stdin",
        ],
        stdin=json.dumps(value),
    )


def kubectl_apply(cli: Cli, manifests: list[dict[str, Any]]) -> None:
    cli.run(
        ["kubectl", "apply", "-f", "-"],
        stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": manifests}),
    )


def bootstrap_database_roles(
    cli: Cli, tf: Mapping[str, Any], runtime: Mapping[str, str], namespace: str, timeout_seconds: int = 300
) -> None:
    region = tf["region"]
    env: dict[str, str] = {}
    for prefix, db, app_user, password_key in (
        ("META", tf["metadata_db"], METADATA_APP_USER, "metadata_db_password"),
        ("WH", tf["warehouse_db"], WAREHOUSE_APP_USER, "warehouse_db_password"),
    ):
        master = read_secret_json(cli, db["master_user_secret_arn"], region)
        if master is None:
            raise RuntimeError(f"cannot read the RDS master secret of {db['address']}")
        env.update(
            {
                f"{prefix}_HOST": db["address"],
                f"{prefix}_PORT": str(db["port"]),
                f"{prefix}_DB": db["db_name"],
                f"{prefix}_MASTER_USER": master["username"],
                f"{prefix}_MASTER_PASSWORD": master["password"],
                f"{prefix}_APP_USER": app_user,
                f"{prefix}_APP_PASSWORD": runtime[password_key],
            }
        )
    name = "gmp-db-bootstrap"
    kubectl_apply(cli, [secret_manifest(name, namespace, env)])
    try:
        cli.run(["kubectl", "-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true"])
        kubectl_apply(cli, [db_bootstrap_pod(name, namespace, name)])
        deadline = time.monotonic() + timeout_seconds
        phase = ""
        while time.monotonic() < deadline:
            phase = cli.run(
                ["kubectl", "-n", namespace, "get", "pod", name, "-o", "jsonpath={.status.phase}"]
            ).stdout
            if phase in ("Succeeded", "Failed"):
                break
            time.sleep(5)
        logs = cli.run(["kubectl", "-n", namespace, "logs", name], check=False).stdout
        for line in logs.splitlines():
            _log(f"psql: {line}")
        if phase != "Succeeded":
            raise RuntimeError(
                f"database bootstrap pod ended in phase {phase or 'unknown'} (see the psql lines above)"
            )
    finally:
        cli.run(["kubectl", "-n", namespace, "delete", "pod", name, "--ignore-not-found"], check=False)
        cli.run(["kubectl", "-n", namespace, "delete", "secret", name, "--ignore-not-found"], check=False)


def main(argv: list[str] | None = None, cli: Cli | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "environment", help="dev or prod: terraform/envs/<environment> and helm/values-<environment>.yaml"
    )
    parser.add_argument("--release", default="airflow", help="Helm release name (default: airflow)")
    parser.add_argument(
        "--admin-email", default="admin@example.com", help="e-mail of the admin user created on first run"
    )
    parser.add_argument("--tf-dir", type=Path, help="env root (default: terraform/envs/<environment>)")
    parser.add_argument("--skip-db", action="store_true", help="do not (re)create the database roles")
    parser.add_argument("--dry-run", action="store_true", help="print what would be created, change nothing")
    args = parser.parse_args(argv)
    cli = cli or Cli()

    values = merged_values(args.environment)
    names = SecretNames.from_values(values)
    tf = terraform_outputs(cli, args.tf_dir or REPO_ROOT / "terraform" / "envs" / args.environment)
    region, namespace = tf["region"], tf["airflow_namespace"]

    if args.dry_run:
        _log(f"would write runtime secret {tf['runtime_secret_name']} (only missing keys)")
        _log(
            f"would create roles {METADATA_APP_USER}@{tf['metadata_db']['address']}, "
            f"{WAREHOUSE_APP_USER}@{tf['warehouse_db']['address']}"
        )
        for name in vars(names).values():
            _log(f"would apply Kubernetes secret {namespace}/{name}")
        for conn_id in tf["connection_secret_names"]:
            _log(
                f"would fill connection {tf['connection_secret_names'][conn_id]} if empty"
                + (" (API key: put it yourself)" if conn_id in KEYED_CONNECTIONS else "")
            )
        return 0

    cli.run(["aws", "eks", "update-kubeconfig", "--name", tf["cluster_name"], "--region", region])
    if cli.run(["kubectl", "get", "namespace", namespace], check=False).returncode != 0:
        cli.run(["kubectl", "create", "namespace", namespace])
        _log(f"created namespace {namespace}")

    existing = read_secret_json(cli, tf["runtime_secret_name"], region) or {}
    runtime, added = complete_runtime(existing, args.admin_email)
    if added:
        put_secret_json(cli, tf["runtime_secret_name"], region, runtime)
        _log(f"stored generated values in {tf['runtime_secret_name']}")
    else:
        _log(f"reusing {tf['runtime_secret_name']}")

    if not args.skip_db:
        bootstrap_database_roles(cli, tf, runtime, namespace)

    kubectl_apply(cli, kubernetes_secrets(names, args.release, namespace, runtime, tf["metadata_db"], values))
    _log(f"applied Kubernetes secrets {', '.join(vars(names).values())} in {namespace}")

    missing = []
    connections = keyless_connections(region, tf["warehouse_db"], runtime)
    for conn_id, secret_name in tf["connection_secret_names"].items():
        if read_secret_json(cli, secret_name, region) is not None:
            continue
        if conn_id in connections:
            put_secret_json(cli, secret_name, region, connections[conn_id])
            _log(f"stored connection {conn_id} in {secret_name}")
        else:
            missing.append(secret_name)
    if missing:
        _log("still without a value (put them as README.md 'Deploy to AWS' shows): " + ", ".join(missing))
    _log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
