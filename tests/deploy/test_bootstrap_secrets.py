"""helm/scripts/bootstrap_secrets.py, run against a fake terraform/aws/kubectl.

The script is the only place secret values exist outside AWS Secrets Manager and Kubernetes; these
tests check it creates exactly the secrets the Helm values reference, with the keys the chart
reads, and that no secret value ever appears on a command line.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.deploy.helm_checks import merged_values

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "helm" / "scripts" / "bootstrap_secrets.py"

TF_OUTPUTS: dict[str, Any] = {
    "region": "eu-west-1",
    "cluster_name": "game-market-dev",
    "airflow_namespace": "airflow",
    "runtime_secret_name": "game-market-dev/airflow/runtime",
    "connections_prefix": "game-market-dev/airflow/connections",
    "connection_secret_names": {
        conn: f"game-market-dev/airflow/connections/{conn}"
        for conn in ("warehouse_db", "lake_s3", "rawg_api", "tcgdex_api", "pokemontcg_api", "pokeapi_api")
    },
    "metadata_db": {
        "address": "meta.abc.eu-west-1.rds.amazonaws.com",
        "port": 5432,
        "db_name": "airflow",
        "master_username": "gmp_admin",
        "master_user_secret_arn": "arn:aws:secretsmanager:meta-master",
    },
    "warehouse_db": {
        "address": "wh.abc.eu-west-1.rds.amazonaws.com",
        "port": 5432,
        "db_name": "warehouse",
        "master_username": "gmp_admin",
        "master_user_secret_arn": "arn:aws:secretsmanager:wh-master",
    },
}
MASTER_PASSWORDS = {
    "arn:aws:secretsmanager:meta-master": "MetaMaster-pw-1!",
    "arn:aws:secretsmanager:wh-master": "WhMaster-pw-2!",
}
CHART_KEYS = {  # the keys the chart (or our createUserJob args) read from each secret
    "metadata": {"connection"},
    "pgbouncer_config": {"pgbouncer.ini", "users.txt"},
    "pgbouncer_stats": {"connection"},
    "fernet_key": {"fernet-key"},
    "api_secret_key": {"api-secret-key", "webserver-secret-key"},
    "jwt_secret": {"jwt-secret"},
    "admin_user": {"username", "email", "password"},
}


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bootstrap_secrets", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bootstrap_secrets"] = module
    spec.loader.exec_module(module)
    return module


class FakeCli:
    def __init__(self, secrets: dict[str, str] | None = None, pod_phase: str = "Succeeded") -> None:
        self.calls: list[tuple[list[str], str | None]] = []
        self.secrets = {
            arn: json.dumps({"username": "gmp_admin", "password": pw}) for arn, pw in MASTER_PASSWORDS.items()
        }
        self.secrets.update(secrets or {})
        self.pod_phase = pod_phase
        self.namespace_exists = False

    def run(
        self, args: list[str], stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        self.calls.append((list(args), stdin))
        out, code = "", 0
        if args[0] == "terraform":
            out = json.dumps(
                {name: {"value": value, "sensitive": False} for name, value in TF_OUTPUTS.items()}
            )
        elif args[:3] == ["aws", "secretsmanager", "get-secret-value"]:
            secret_id = args[args.index("--secret-id") + 1]
            out, code = (self.secrets[secret_id], 0) if secret_id in self.secrets else ("", 254)
        elif args[:3] == ["aws", "secretsmanager", "put-secret-value"]:
            assert args[args.index("--secret-string") + 1] == "file:///dev/stdin"
            self.secrets[args[args.index("--secret-id") + 1]] = stdin or ""
        elif args[:3] == ["kubectl", "get", "namespace"]:
            code = 0 if self.namespace_exists else 1
        elif args[0] == "kubectl" and "get" in args and "pod" in args:
            out = self.pod_phase
        elif args[0] == "kubectl" and "logs" in args:
            out = "role airflow ready on airflow\nrole gmp_pipeline ready on warehouse\n"
        if check and code != 0:
            raise subprocess.CalledProcessError(code, args, out, "")
        return subprocess.CompletedProcess(args, code, out, "")

    def applied(self) -> list[dict[str, Any]]:
        items = []
        for args, stdin in self.calls:
            if args[:2] == ["kubectl", "apply"]:
                items += json.loads(stdin)["items"]
        return items

    def puts(self) -> list[str]:
        return [
            args[args.index("--secret-id") + 1]
            for args, _ in self.calls
            if args[:3] == ["aws", "secretsmanager", "put-secret-value"]
        ]


def test_secret_names_come_from_the_values(script: ModuleType) -> None:
    for environment in ("dev", "prod"):
        values = merged_values(environment)
        names = script.SecretNames.from_values(values)
        assert names.metadata == values["data"]["metadataSecretName"]
        assert names.jwt_secret == values["jwtSecretName"]
        assert (
            names.api_secret_key == values["apiSecretKeySecretName"] == values["webserverSecretKeySecretName"]
        )
        assert names.pgbouncer_config == values["pgbouncer"]["configSecretName"]
        assert len(set(vars(names).values())) == len(vars(names))


def test_kubernetes_secrets_carry_the_keys_the_chart_reads(script: ModuleType) -> None:
    values = merged_values("prod")
    names = script.SecretNames.from_values(values)
    runtime, added = script.complete_runtime({}, "ops@example.com")
    assert added and set(runtime) == set(script.RUNTIME_KEYS)
    manifests = {
        m["metadata"]["name"]: m
        for m in script.kubernetes_secrets(
            names, "airflow", "airflow", runtime, TF_OUTPUTS["metadata_db"], values
        )
    }
    for field, keys in CHART_KEYS.items():
        assert set(manifests[getattr(names, field)]["stringData"]) == keys, field
    connection = manifests[names.metadata]["stringData"]["connection"]
    assert re.fullmatch(
        r"postgresql://airflow:[^@]+@airflow-pgbouncer\.airflow:6543/airflow-metadata", connection
    )
    ini = manifests[names.pgbouncer_config]["stringData"]["pgbouncer.ini"]
    host = TF_OUTPUTS["metadata_db"]["address"]
    assert f"airflow-metadata = host={host} dbname=airflow port=5432 pool_size=40" in ini
    assert "server_tls_sslmode = require" in ini and "auth_type = scram-sha-256" in ini
    assert (
        manifests[names.pgbouncer_config]["stringData"]["users.txt"]
        == f'"airflow" "{runtime["metadata_db_password"]}"\n'
    )
    args = " ".join(values["createUserJob"]["args"])
    for key in CHART_KEYS["admin_user"]:
        assert f"/opt/airflow/secrets/admin-user/{key}" in args


def test_database_bootstrap_script_is_valid_shell(script: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "bootstrap.sh"
    path.write_text(script.DB_BOOTSTRAP_SCRIPT)
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "\\gexec" in script.DB_BOOTSTRAP_SCRIPT and "ON_ERROR_STOP=1" in script.DB_BOOTSTRAP_SCRIPT
    assert "PGSSLMODE=require" in script.DB_BOOTSTRAP_SCRIPT


def test_runtime_values_are_generated_once_and_then_kept(script: ModuleType) -> None:
    first, added = script.complete_runtime({}, "ops@example.com")
    again, added_again = script.complete_runtime(first, "someone-else@example.com")
    assert added and not added_again and again == first
    assert len(first["fernet_key"]) == 44 and first["fernet_key"].endswith("=")  # 32 url-safe base64 bytes
    assert first["admin_email"] == "ops@example.com"


def test_keyless_connections_follow_the_shared_config(script: ModuleType) -> None:
    runtime, _ = script.complete_runtime({}, "ops@example.com")
    connections = script.keyless_connections("eu-west-1", TF_OUTPUTS["warehouse_db"], runtime)
    assert set(connections) == {"warehouse_db", "lake_s3", "tcgdex_api", "pokeapi_api"}
    assert connections["tcgdex_api"] == {"conn_type": "http", "host": "https://api.tcgdex.net/v2/en"}
    assert connections["lake_s3"] == {"conn_type": "aws", "extra": {"region_name": "eu-west-1"}}
    warehouse = connections["warehouse_db"]
    assert (warehouse["conn_type"], warehouse["login"], warehouse["schema"]) == (
        "postgres",
        "gmp_pipeline",
        "warehouse",
    )
    assert warehouse["extra"] == {"sslmode": "require"}


def test_first_run_creates_everything_without_a_secret_on_any_command_line(script: ModuleType) -> None:
    cli = FakeCli()
    assert script.main(["dev"], cli=cli) == 0
    runtime = json.loads(cli.secrets[TF_OUTPUTS["runtime_secret_name"]])
    secret_values = [v for k, v in runtime.items() if k not in ("admin_username", "admin_email")]
    secret_values += list(MASTER_PASSWORDS.values())
    for args, _ in cli.calls:
        command_line = " ".join(args)
        for value in secret_values:
            assert value not in command_line, f"a secret value is on the command line of {args[:3]}"

    names = script.SecretNames.from_values(merged_values("dev"))
    applied = cli.applied()
    secrets = {m["metadata"]["name"] for m in applied if m["kind"] == "Secret"}
    assert set(vars(names).values()) <= secrets
    pod = next(m for m in applied if m["kind"] == "Pod")
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert re.fullmatch(r"postgres:\d+\.\d+-alpine", pod["spec"]["containers"][0]["image"])
    assert pod["spec"]["containers"][0]["resources"]["requests"]
    temporary = pod["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"]
    assert ["kubectl", "-n", "airflow", "delete", "secret", temporary, "--ignore-not-found"] in [
        c for c, _ in cli.calls
    ]

    prefix = TF_OUTPUTS["connections_prefix"]
    assert set(cli.puts()) == {TF_OUTPUTS["runtime_secret_name"]} | {
        f"{prefix}/{c}" for c in ("warehouse_db", "lake_s3", "tcgdex_api", "pokeapi_api")
    }
    assert ["kubectl", "create", "namespace", "airflow"] in [c for c, _ in cli.calls]


def test_second_run_keeps_stored_values_and_operator_connections(script: ModuleType) -> None:
    cli = FakeCli()
    script.main(["dev", "--skip-db"], cli=cli)
    stored = dict(cli.secrets)
    rawg = TF_OUTPUTS["connection_secret_names"]["rawg_api"]
    stored[rawg] = json.dumps(
        {"conn_type": "http", "host": "https://api.rawg.io/api", "password": "operator-key"}
    )
    again = FakeCli(secrets=stored)
    again.namespace_exists = True
    assert script.main(["dev", "--skip-db"], cli=again) == 0
    assert again.puts() == []  # nothing regenerated, nothing overwritten
    assert again.secrets[rawg] == stored[rawg]
    assert not [c for c, _ in again.calls if c[:2] == ["kubectl", "create"]]


def test_failed_database_bootstrap_stops_and_cleans_up(script: ModuleType) -> None:
    cli = FakeCli(pod_phase="Failed")
    with pytest.raises(RuntimeError, match="phase Failed"):
        script.main(["dev"], cli=cli)
    commands = [c for c, _ in cli.calls]
    assert [
        "kubectl",
        "-n",
        "airflow",
        "delete",
        "secret",
        "gmp-db-bootstrap",
        "--ignore-not-found",
    ] in commands
    assert not any(m["metadata"]["name"] == "airflow-metadata-db" for m in cli.applied())


def test_dry_run_changes_nothing(script: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    cli = FakeCli()
    assert script.main(["prod", "--dry-run"], cli=cli) == 0
    assert [c[0] for c, _ in cli.calls] == ["terraform"]
    assert "airflow-metadata-db" in capsys.readouterr().out
