"""terraform/: formatting and structure, read with python-hcl2 (no provider download needed).

`terraform init/validate` need the providers, which cannot be downloaded here; these tests check
what the HCL says: module layout, typed and described variables, documented outputs, pinned
providers, locked remote state, no literal secret, and the security settings the issue asks for.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import capacity, hcl

TF = hcl.TERRAFORM_DIR
MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"}
ENV_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf", "backend.tf"}
EXPECTED_MODULES = {
    "network",
    "eks",
    "rds",
    "s3",
    "iam",
    "secrets",
    "ecr",
    "platform",
    "karpenter",
    "airflow_release",
}
# Inputs that have no sensible default: everything else must have one.
REQUIRED_INPUTS = {
    "modules/network": {"name", "cluster_name"},
    # kubernetes_version: chosen once, in modules/platform.
    "modules/eks": {"name", "vpc_id", "subnet_ids", "kubernetes_version"},
    "modules/karpenter": {
        "cluster_name",
        "oidc_provider_arn",
        "oidc_provider",
        "subnet_ids",
        "security_group_ids",
    },
    "modules/rds": {"identifier", "purpose", "db_name", "vpc_id", "subnet_ids", "allowed_security_group_ids"},
    "modules/s3": {"name_prefix"},
    "modules/iam": {
        "name_prefix",
        "oidc_provider_arn",
        "oidc_provider",
        "lake_bucket_arn",
        "lake_kms_key_arn",
        "logs_bucket_arn",
        "logs_kms_key_arn",
        "connection_secret_arns",
        "secrets_kms_key_arn",
    },
    "modules/secrets": {"name_prefix"},
    "modules/ecr": {"name"},
    "modules/platform": {"environment"},
    "modules/airflow_release": {"values", "image_tag"},
    "envs/dev": {"cluster_public_access_cidrs"},
    "envs/prod": {"cluster_public_access_cidrs"},
    "bootstrap": set(),
}
ROOTS_WITH_PROVIDERS = [TF / "envs" / "dev", TF / "envs" / "prod", TF / "bootstrap"]


def rel(path: Path) -> str:
    return path.relative_to(TF).as_posix()


# --- Formatting ----------------------------------------------------------------------------------


def test_terraform_fmt() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: `terraform fmt -check -recursive terraform` not run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(TF)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


# --- Layout --------------------------------------------------------------------------------------


def test_modules_and_envs_have_their_file_set() -> None:
    assert {d.name for d in hcl.module_dirs()} == EXPECTED_MODULES
    for module in hcl.module_dirs():
        missing = MODULE_FILES - {p.name for p in module.iterdir()}
        assert not missing, f"{rel(module)} lacks {missing}"
        assert (module / "README.md").read_text().strip().startswith("# module"), rel(module)
    assert {d.name for d in hcl.env_dirs()} == {"dev", "prod"}
    for env in hcl.env_dirs():
        missing = ENV_FILES - {p.name for p in env.iterdir()}
        assert not missing, f"{rel(env)} lacks {missing}"
    assert (TF / "README.md").is_file()


@pytest.mark.parametrize("directory", hcl.root_dirs(), ids=rel)
def test_variables_are_typed_described_and_defaulted(directory: Path) -> None:
    variables = hcl.dir_blocks(directory, "variable")
    for name, body in variables.items():
        assert body.get("type"), f"{rel(directory)}: variable {name} has no type"
        assert len(str(body.get("description", "")).strip()) >= 10, (
            f"{rel(directory)}: variable {name} is not described"
        )
    without_default = {name for name, body in variables.items() if "default" not in body}
    assert without_default == REQUIRED_INPUTS[rel(directory)], (
        f"{rel(directory)}: variables without a default {sorted(without_default)}; "
        "give them one or list them in REQUIRED_INPUTS on purpose"
    )
    # Variables are declared in variables.tf, nowhere else.
    for path in directory.glob("*.tf"):
        if path.name != "variables.tf":
            assert not hcl.blocks(path, "variable"), f"{rel(path)} declares variables"


@pytest.mark.parametrize("directory", hcl.root_dirs(), ids=rel)
def test_outputs_are_documented(directory: Path) -> None:
    outputs = hcl.dir_blocks(directory, "output")
    assert outputs, f"{rel(directory)} has no outputs"
    for name, body in outputs.items():
        assert len(str(body.get("description", "")).strip()) >= 10, (
            f"{rel(directory)}: output {name} is not described"
        )
    for path in directory.glob("*.tf"):
        if path.name != "outputs.tf":
            assert not hcl.blocks(path, "output"), f"{rel(path)} declares outputs"


# --- Pins ----------------------------------------------------------------------------------------


def _required_providers(directory: Path) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for block in hcl.terraform_blocks(directory):
        for entry in block.get("required_providers", []):
            providers.update({k: v for k, v in entry.items() if not k.startswith("__")})
    return providers


@pytest.mark.parametrize("directory", hcl.root_dirs(), ids=rel)
def test_terraform_and_providers_are_pinned(directory: Path) -> None:
    blocks = hcl.terraform_blocks(directory)
    versions = [b["required_version"] for b in blocks if "required_version" in b]
    assert versions == [">= 1.10.0, < 2.0.0"], f"{rel(directory)}: required_version {versions}"
    providers = _required_providers(directory)
    for name, spec in providers.items():
        assert spec.get("source", "").startswith("hashicorp/"), f"{rel(directory)}: {name} source"
        version = spec.get("version", "")
        if directory in ROOTS_WITH_PROVIDERS:
            assert re.fullmatch(r"~> \d+\.\d+", version), (
                f"{rel(directory)}: {name} must be pinned with ~>, got {version!r}"
            )
        else:
            assert re.fullmatch(r">= \d+\.\d+\.\d+, < \d+\.\d+\.\d+", version), (
                f"{rel(directory)}: {name} bounds {version!r}"
            )
    used = {r.split("_")[0] for r, _ in hcl.dir_resources(directory)} | {
        r.split("_")[0] for r, _ in hcl.dir_resources(directory, "data")
    }
    assert used <= set(providers) | {"terraform"}, (
        f"{rel(directory)} uses providers it does not require: {used - set(providers)}"
    )


def test_module_sources_are_local_or_versioned() -> None:
    for directory in hcl.root_dirs():
        for name, body in hcl.dir_blocks(directory, "module").items():
            source = body["source"]
            if source.startswith(("./", "../")):
                assert (directory / source).resolve().is_dir(), f"{rel(directory)}: module {name} -> {source}"
            else:
                assert re.fullmatch(r"\d+\.\d+\.\d+", str(body.get("version", ""))), (
                    f"{rel(directory)}: module {name} unpinned"
                )


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_env_state_is_remote_in_s3_with_locking(env: str) -> None:
    backends = [b["backend"] for b in hcl.terraform_blocks(TF / "envs" / env) if "backend" in b]
    assert len(backends) == 1
    s3 = hcl.first(backends[0])["s3"]
    assert s3["use_lockfile"] is True and s3["encrypt"] is True
    assert s3["key"] == f"game-market-pipeline/{env}/terraform.tfstate"


# --- No secrets ----------------------------------------------------------------------------------

LITERAL_SECRET = [
    re.compile(
        r'(?i)\b(password|master_password|secret_string|secret_key|access_key|token)\s*=\s*"(?!\$\{)[^"]+"'
    ),
    re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
]


def test_no_literal_secret_anywhere() -> None:
    files = [
        p
        for p in TF.rglob("*")
        if p.suffix in (".tf", ".tfvars", ".hcl", ".tftpl") and ".terraform" not in p.parts
    ]
    files.append(TF.parent / "helm" / "values-infra.yaml.tftpl")
    for path in files:
        text = path.read_text()
        for pattern in LITERAL_SECRET:
            assert not pattern.search(text), f"{path}: literal secret {pattern.search(text).group(0)!r}"
    assert not list(TF.rglob("*.tfvars")), "no tfvars in git: pass inputs with -var or TF_VAR_*"
    for directory in hcl.root_dirs():
        resources = hcl.dir_resources(directory)
        assert not [r for r in resources if r[0] == "aws_secretsmanager_secret_version"], (
            f"{rel(directory)}: secret values are set outside Terraform (they would land in the state)"
        )
        for (rtype, name), body in resources.items():
            assert "password" not in body and "master_password" not in body, f"{rtype}.{name} sets a password"


def test_checkov_skips_sit_in_their_block_with_a_reason() -> None:
    for directory in hcl.root_dirs():
        for path in directory.glob("*.tf"):
            text = path.read_text()
            skips = re.findall(r"#checkov:skip=([A-Z0-9_]+)(?::(.*))?", text)
            in_blocks = []
            for kind in ("resource", "data"):
                for body in hcl.resources(path, kind).values():
                    in_blocks += [
                        c["value"] for c in body.get("__comments__", []) if "checkov:skip" in c["value"]
                    ]
            assert len(in_blocks) == len(skips), (
                f"{rel(path)}: a checkov skip is outside the block it suppresses"
            )
            for check, reason in skips:
                assert check.startswith(("CKV_", "CKV2_")), f"{rel(path)}: {check}"
                assert reason and len(reason.strip()) >= 20, f"{rel(path)}: skip of {check} needs a reason"


# --- Security settings ---------------------------------------------------------------------------


def _buckets(directory: Path) -> dict[str, dict[tuple[str, str], Any]]:
    resources = hcl.dir_resources(directory)
    names = [name for (rtype, name) in resources if rtype == "aws_s3_bucket"]
    return {name: resources for name in names}


@pytest.mark.parametrize("directory", [TF / "modules" / "s3", TF / "bootstrap"], ids=rel)
def test_every_bucket_is_private_versioned_encrypted_and_tls_only(directory: Path) -> None:
    resources = hcl.dir_resources(directory)
    data = hcl.dir_resources(directory, "data")
    buckets = [name for (rtype, name) in resources if rtype == "aws_s3_bucket"]
    assert buckets
    for name in buckets:
        block = resources[("aws_s3_bucket_public_access_block", name)]
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        ):
            assert block[flag] is True, f"{name}: {flag}"
        versioning = hcl.first(resources[("aws_s3_bucket_versioning", name)]["versioning_configuration"])
        assert versioning["status"] == "Enabled", name
        sse = hcl.first(
            hcl.first(resources[("aws_s3_bucket_server_side_encryption_configuration", name)]["rule"])[
                "apply_server_side_encryption_by_default"
            ]
        )
        assert sse["sse_algorithm"] in ("aws:kms", "AES256"), name
        if name != "access_logs":  # S3 log delivery only supports SSE-S3 on its target bucket
            assert sse["sse_algorithm"] == "aws:kms" and sse["kms_master_key_id"].startswith(
                "${aws_kms_key."
            ), name
        ownership = hcl.first(resources[("aws_s3_bucket_ownership_controls", name)]["rule"])
        assert ownership["object_ownership"] == "BucketOwnerEnforced", name
        assert ("aws_s3_bucket_lifecycle_configuration", name) in resources, name
        policy = resources[("aws_s3_bucket_policy", name)]
        document = data[("aws_iam_policy_document", policy["policy"].split(".")[2])]
        deny_http = [s for s in document["statement"] if s.get("effect") == "Deny"]
        assert deny_http, f"{name}: no Deny statement"
        condition = hcl.first(deny_http[0]["condition"])
        assert (condition["variable"], condition["values"]) == ("aws:SecureTransport", ["false"]), name


def test_lake_lifecycle_moves_old_bronze_to_cheaper_storage() -> None:
    resources = hcl.dir_resources(TF / "modules" / "s3")
    rules = resources[("aws_s3_bucket_lifecycle_configuration", "lake")]["rule"]
    bronze = next(
        r for r in rules if hcl.first(r.get("filter", [{}])).get("prefix") == "${var.bronze_prefix}/"
    )
    assert [t["storage_class"] for t in bronze["transition"]] == ["STANDARD_IA", "GLACIER_IR"]
    quarantine = next(
        r for r in rules if hcl.first(r.get("filter", [{}])).get("prefix") == "${var.quarantine_prefix}/"
    )
    assert "expiration" in quarantine
    assert any("abort_incomplete_multipart_upload" in r for r in rules)
    variables = hcl.blocks(TF / "modules" / "s3" / "variables.tf", "variable")
    assert variables["bronze_prefix"]["default"] == "bronze"
    assert variables["quarantine_prefix"]["default"] == "quarantine"


def test_kms_keys_rotate() -> None:
    for directory in hcl.root_dirs():
        for (rtype, name), body in hcl.dir_resources(directory).items():
            if rtype == "aws_kms_key":
                assert body["enable_key_rotation"] is True, f"{rel(directory)}: {name}"
                assert body.get("policy"), f"{rel(directory)}: {name} has no key policy"


def test_rds_is_private_encrypted_and_its_master_password_managed_by_aws() -> None:
    db = hcl.dir_resources(TF / "modules" / "rds")[("aws_db_instance", "this")]
    assert db["storage_encrypted"] is True and db["kms_key_id"].startswith("${aws_kms_key.")
    assert db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"].startswith("${aws_kms_key.")
    assert db["engine"] == "postgres"
    assert db["backup_retention_period"] == "${var.backup_retention_days}"
    assert db["deletion_protection"] == "${var.deletion_protection}" and db["multi_az"] == "${var.multi_az}"
    validation = hcl.first(
        hcl.blocks(TF / "modules" / "rds" / "variables.tf", "variable")["engine_version"]["validation"]
    )
    assert '["15", "16"]' in validation["condition"]


def test_prod_turns_every_safety_switch_on() -> None:
    prod = hcl.blocks(TF / "envs" / "prod" / "main.tf", "module")["platform"]
    assert prod["multi_az"] is True
    assert prod["deletion_protection"] is True
    assert prod["performance_insights_enabled"] is True
    assert prod["single_nat_gateway"] is False
    assert prod["force_destroy"] is False
    assert prod["backup_retention_days"] >= 14
    dev = hcl.blocks(TF / "envs" / "dev" / "main.tf", "module")["platform"]
    assert dev["environment"] == "dev" and prod["environment"] == "prod"
    assert dev["vpc_cidr"] != prod["vpc_cidr"]


def test_warehouse_and_metadata_are_separate_instances() -> None:
    modules = hcl.blocks(TF / "modules" / "platform" / "main.tf", "module")
    assert modules["warehouse_db"]["source"] == modules["metadata_db"]["source"] == "../rds"
    assert (
        modules["warehouse_db"]["db_name"] == "warehouse" and modules["metadata_db"]["db_name"] == "airflow"
    )


def test_network_spans_three_zones_with_private_subnets_nat_and_endpoints() -> None:
    resources = hcl.dir_resources(TF / "modules" / "network")
    variables = hcl.blocks(TF / "modules" / "network" / "variables.tf", "variable")
    assert "== 3" in hcl.first(variables["availability_zones"]["validation"])["condition"]
    assert set(variables["interface_endpoints"]["default"]) >= {"secretsmanager", "sts"}
    for kind in ("public", "private", "database"):
        assert resources[("aws_subnet", kind)]["count"] == "${length(local.azs)}"
    assert resources[("aws_subnet", "public")]["map_public_ip_on_launch"] is False
    assert ("aws_nat_gateway", "this") in resources
    assert resources[("aws_vpc_endpoint", "s3")]["vpc_endpoint_type"] == "Gateway"
    assert resources[("aws_vpc_endpoint", "interface")]["private_dns_enabled"] is True
    assert ("aws_flow_log", "this") in resources and ("aws_default_security_group", "default") in resources
    database_routes = [
        r for (t, n), r in resources.items() if t == "aws_route" and "database" in r["route_table_id"]
    ]
    assert not database_routes, "the database subnets must have no route out"


def test_eks_has_irsa_encryption_logging_and_imdsv2() -> None:
    resources = hcl.dir_resources(TF / "modules" / "eks")
    cluster = resources[("aws_eks_cluster", "this")]
    assert hcl.first(cluster["encryption_config"])["resources"] == ["secrets"]
    assert hcl.first(cluster["vpc_config"])["endpoint_private_access"] is True
    assert ("aws_iam_openid_connect_provider", "this") in resources
    assert ("aws_eks_node_group", "default") in resources
    assert resources[("aws_eks_addon", "this")]["for_each"] == "${toset(var.addons)}"
    metadata = hcl.first(resources[("aws_launch_template", "nodes")]["metadata_options"])
    assert metadata["http_tokens"] == "required" and metadata["http_put_response_hop_limit"] == 1
    ebs = hcl.first(hcl.first(resources[("aws_launch_template", "nodes")]["block_device_mappings"])["ebs"])
    assert ebs["encrypted"] is True


def test_secrets_are_containers_encrypted_with_a_cmk() -> None:
    resources = hcl.dir_resources(TF / "modules" / "secrets")
    for name in ("connection", "runtime"):
        assert resources[("aws_secretsmanager_secret", name)]["kms_key_id"] == "${aws_kms_key.this.arn}"


def _policy_text(name: str) -> str:
    return repr(hcl.dir_resources(TF / "modules" / "iam", "data")[("aws_iam_policy_document", name)])


def test_iam_roles_are_least_privilege() -> None:
    iam = TF / "modules" / "iam"
    roles = hcl.dir_resources(iam)
    attached = {body["role"]: body["policy"] for (t, _), body in roles.items() if t == "aws_iam_role_policy"}
    by_workload = {
        re.search(r'workload\["(\w+)"\]', role).group(1): policy for role, policy in attached.items()
    }
    assert set(by_workload) == {"scheduler", "api_server", "dag_processor", "triggerer", "worker"}
    for workload in ("scheduler", "api_server", "dag_processor"):
        document = by_workload[workload].split(".")[2]
        text = _policy_text(document)
        assert "lake" not in text and "secretsmanager" not in text, (
            f"{workload} must not reach the lake or secrets"
        )
    worker = _policy_text("worker")
    assert "local.lake_object_arns" in worker and "s3:PutObject" in worker
    triggerer = _policy_text("triggerer")
    assert "s3:PutObject" not in triggerer.split("ReadLakePrefixes")[1].split("sid")[0]
    assert "local.triggerer_secret_arns" in triggerer
    all_text = (iam / "main.tf").read_text()
    assert "s3:DeleteObject" not in all_text
    assert not re.search(r'(actions|resources)\s*=\s*\[[^\]]*"\*"', all_text), (
        "no wildcard actions or resources"
    )
    trust = _policy_text("assume")
    assert ":sub" in trust and ":aud" in trust and "system:serviceaccount:" in trust


# --- Kubernetes version ------------------------------------------------------------------------------

# End of EKS standard support per minor version, from the EKS Kubernetes release calendar
# (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html). Add a row before moving to a
# newer version; a version whose date has passed fails the test below, on purpose.
EKS_STANDARD_SUPPORT_ENDS = {
    "1.32": date(2026, 3, 23),
    "1.33": date(2026, 7, 29),
    "1.34": date(2026, 12, 2),
    "1.35": date(2027, 3, 27),
}
# Kubernetes minors each Karpenter chart line supports (karpenter.sh compatibility matrix).
KARPENTER_SUPPORTS = {
    "1.8": ("1.29", "1.34"),
    "1.9": ("1.29", "1.35"),
    "1.10": ("1.29", "1.35"),
    "1.11": ("1.29", "1.35"),
}


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def test_kubernetes_version_is_chosen_once_and_in_eks_standard_support() -> None:
    chosen = {
        rel(directory): body["default"]
        for directory in hcl.root_dirs()
        for name, body in hcl.dir_blocks(directory, "variable").items()
        if name == "kubernetes_version" and "default" in body
    }
    assert list(chosen) == ["modules/platform"], f"kubernetes_version has defaults in {chosen}: set it once"
    version = chosen["modules/platform"]
    assert hcl.kubernetes_version() == version
    assert version in EKS_STANDARD_SUPPORT_ENDS, (
        f"Kubernetes {version}: add its end of EKS standard support to EKS_STANDARD_SUPPORT_ENDS"
    )
    ends = EKS_STANDARD_SUPPORT_ENDS[version]
    assert ends > date.today(), (
        f"EKS standard support of Kubernetes {version} ended on {ends}: move modules/platform's "
        "kubernetes_version to a version in standard support"
    )
    # The control plane and the managed nodes take it from the variable, nowhere a literal.
    eks = hcl.dir_resources(TF / "modules" / "eks")
    assert eks[("aws_eks_cluster", "this")]["version"] == "${var.kubernetes_version}"
    assert eks[("aws_eks_node_group", "default")]["version"] == "${aws_eks_cluster.this.version}"
    platform = hcl.blocks(TF / "modules" / "platform" / "main.tf", "module")["eks"]
    assert platform["kubernetes_version"] == "${var.kubernetes_version}"
    for path in TF.rglob("*.tf"):
        assert not re.search(r'version\s*=\s*"1\.\d\d"', path.read_text()), (
            f"{path}: a literal Kubernetes version"
        )


def test_karpenter_chart_supports_the_cluster_version() -> None:
    version = hcl.kubernetes_version()
    chart = hcl.dir_blocks(TF / "modules" / "karpenter", "variable")["chart_version"]["default"]
    line = ".".join(chart.split(".")[:2])
    assert line in KARPENTER_SUPPORTS, f"Karpenter {chart}: add its Kubernetes range to KARPENTER_SUPPORTS"
    low, high = KARPENTER_SUPPORTS[line]
    assert _minor(low) <= _minor(version) <= _minor(high), (
        f"Karpenter {chart} supports Kubernetes {low}-{high}, the cluster runs {version}"
    )


# --- Public API endpoint -----------------------------------------------------------------------------

OPEN_OR_INVALID_CIDRS = [
    "[]",
    '["0.0.0.0/0"]',
    '["203.0.113.10/32", "0.0.0.0/0"]',
    '["0.0.0.0/00"]',
    '["0.0.0.0/1", "128.0.0.0/1"]',
    '["::/0"]',
    '["203.0.113.10"]',
]
OPERATOR_CIDRS = ['["203.0.113.10/32"]', '["198.51.100.0/24", "203.0.113.10/32"]']
# (directory, variable, other inputs without a default)
CIDR_VARIABLES = [
    ("envs/dev", "cluster_public_access_cidrs", {}),
    ("envs/prod", "cluster_public_access_cidrs", {}),
    ("modules/platform", "cluster_public_access_cidrs", {"environment": "prod"}),
    (
        "modules/eks",
        "public_access_cidrs",
        {
            "name": "x",
            "vpc_id": "x",
            "subnet_ids": '["a", "b"]',
            "kubernetes_version": "1.35",
            "endpoint_public_access": "true",
        },
    ),
]


def test_public_access_cidrs_are_validated_in_every_layer() -> None:
    for directory, variable, _ in CIDR_VARIABLES:
        body = hcl.dir_blocks(TF / directory, "variable")[variable]
        conditions = " ".join(v["condition"] for v in body.get("validation", []))
        assert "cidrnetmask" in conditions and ">= 8" in conditions, (
            f"{directory}: {variable} CIDR validation"
        )
        assert "length(var." in conditions, f"{directory}: {variable} may be empty"
    for env in ("dev", "prod"):
        assert "default" not in hcl.dir_blocks(TF / "envs" / env, "variable")["cluster_public_access_cidrs"]


@pytest.fixture(scope="module")
def variables_only_root(tmp_path_factory: pytest.TempPathFactory):
    """Plans a root holding only a directory's variables.tf: Terraform evaluates the validation
    blocks exactly as in the real root, without providers (nothing to download)."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not on PATH: the validation blocks are not evaluated")
    prepared: dict[str, Path] = {}

    def plan(directory: str, inputs: dict[str, str]) -> subprocess.CompletedProcess[str]:
        if directory not in prepared:
            root = tmp_path_factory.mktemp(directory.replace("/", "-"))
            shutil.copy(TF / directory / "variables.tf", root / "variables.tf")
            subprocess.run(
                [terraform, "init", "-input=false", "-no-color"],
                cwd=root,
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            prepared[directory] = root
        args = [arg for name, value in inputs.items() for arg in ("-var", f"{name}={value}")]
        return subprocess.run(
            [terraform, "plan", "-input=false", "-no-color", "-lock=false", *args],
            cwd=prepared[directory],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return plan


@pytest.mark.parametrize("directory,variable,other", CIDR_VARIABLES, ids=[c[0] for c in CIDR_VARIABLES])
def test_public_access_cidrs_refuse_the_open_internet(
    variables_only_root, directory, variable, other
) -> None:
    for cidrs in OPEN_OR_INVALID_CIDRS:
        result = variables_only_root(directory, {**other, variable: cidrs})
        assert result.returncode != 0, f"{directory}: {variable}={cidrs} was accepted"
        assert "Invalid value for variable" in result.stderr, result.stderr[-2000:]
    for cidrs in OPERATOR_CIDRS:
        result = variables_only_root(directory, {**other, variable: cidrs})
        assert result.returncode == 0, f"{directory}: {variable}={cidrs} refused:\n{result.stderr[-2000:]}"


# --- Node autoscaling --------------------------------------------------------------------------------


def test_both_environments_scale_task_nodes_with_karpenter() -> None:
    for env in ("dev", "prod"):
        call = hcl.blocks(TF / "envs" / env / "main.tf", "module").get("karpenter")
        assert call is not None, f"envs/{env}: nothing scales the nodes"
        assert call["source"] == "../../modules/karpenter"
        assert "count" not in call, f"envs/{env}: autoscaling must not be optional"
        assert call["security_group_ids"] == ["${module.platform.cluster_security_group_id}"]
    prod = hcl.blocks(TF / "envs" / "prod" / "main.tf", "module")["karpenter"]
    assert prod["task_capacity_types"] == ["on-demand"], "prod task nodes: no spot reclaim mid-build"
    assert prod["controller_replicas"] >= 2


def test_karpenter_has_its_irsa_role_queue_and_node_access() -> None:
    module = TF / "modules" / "karpenter"
    resources = hcl.dir_resources(module)
    data = hcl.dir_resources(module, "data")
    trust = repr(data[("aws_iam_policy_document", "controller_assume")])
    assert "system:serviceaccount:${var.namespace}:${local.service_account}" in trust and ":aud" in trust
    assert resources[("aws_iam_role", "controller")]["assume_role_policy"].endswith("controller_assume.json}")
    queue = resources[("aws_sqs_queue", "interruption")]
    assert queue["sqs_managed_sse_enabled"] is True
    queue_policy = data[("aws_iam_policy_document", "interruption_queue")]
    deny = [s for s in queue_policy["statement"] if s.get("effect") == "Deny"]
    assert deny and hcl.first(deny[0]["condition"])["variable"] == "aws:SecureTransport"
    assert (
        resources[("aws_cloudwatch_event_rule", "interruption")]["for_each"] == "${local.interruption_events}"
    )
    main = (module / "main.tf").read_text()
    for detail_type in (
        "EC2 Spot Instance Interruption Warning",
        "EC2 Instance Rebalance Recommendation",
        "AWS Health Event",
        "EC2 Instance State-change Notification",
    ):
        assert detail_type in main, detail_type
    assert resources[("aws_eks_access_entry", "node")]["type"] == "EC2_LINUX"
    controller = resources[("helm_release", "controller")]
    assert (
        controller["repository"] == "oci://public.ecr.aws/karpenter"
        and controller["version"] == "${var.chart_version}"
    )
    assert (
        "interruptionQueue" in controller["values"][0]
        and "eks.amazonaws.com/role-arn" in controller["values"][0]
    )
    assert resources[("helm_release", "node_pool")]["depends_on"][0] == "${helm_release.controller}"


def test_karpenter_controller_writes_only_what_it_tagged() -> None:
    statements = hcl.dir_resources(TF / "modules" / "karpenter", "data")[
        ("aws_iam_policy_document", "controller")
    ]["statement"]
    by_sid = {s["sid"]: s for s in statements}
    cluster_tag = "${local.cluster_tag}"
    assert hcl.load(TF / "modules" / "karpenter" / "main.tf")["locals"][0]["cluster_tag"] == (
        "kubernetes.io/cluster/${var.cluster_name}"
    )
    for sid in (
        "AllowScopedEC2LaunchTemplateAccessActions",
        "AllowScopedEC2InstanceActionsWithTags",
        "AllowScopedResourceCreationTagging",
        "AllowScopedResourceTagging",
        "AllowScopedDeletion",
    ):
        variables = {c["variable"] for c in by_sid[sid]["condition"]}
        assert any(cluster_tag in v for v in variables), f"{sid}: not limited to this cluster"
    wildcard = {s["sid"] for s in statements if s["resources"] == ["*"]}
    assert wildcard == {
        "AllowRegionalReadActions",
        "AllowPricingReadActions",
        "AllowUnscopedInstanceProfileListAction",
    }, wildcard
    for sid in wildcard:
        reads = ("ec2:Describe", "pricing:Get", "iam:List")
        assert all(a.startswith(reads) for a in by_sid[sid]["actions"]), f"{sid} writes on any resource"
    assert by_sid["AllowPassingInstanceRole"]["resources"] == ["${aws_iam_role.node.arn}"]
    actions = {a for s in statements for a in s["actions"]}
    assert not {"iam:CreateInstanceProfile", "iam:DeleteInstanceProfile"} & actions


def test_task_node_pool_is_bounded_and_hardened() -> None:
    chart = TF / "modules" / "karpenter" / "nodepool-chart"
    node_pool = (chart / "templates" / "nodepool.yaml").read_text()
    node_class = (chart / "templates" / "ec2nodeclass.yaml").read_text()
    assert "limits:\n    cpu: {{ .Values.cpuLimit | quote }}" in node_pool
    assert "consolidationPolicy: WhenEmptyOrUnderutilized" in node_pool
    assert "httpTokens: required" in node_class and "httpPutResponseHopLimit: 1" in node_class
    assert "encrypted: true" in node_class
    values = hcl.dir_resources(TF / "modules" / "karpenter")[("helm_release", "node_pool")]["values"][0]
    for key in (
        "cpuLimit",
        "instanceTypes",
        "capacityTypes",
        "subnetIds",
        "securityGroupIds",
        "instanceProfile",
    ):
        assert key in values, key


def _helm() -> str:
    # The same pinned helm as the Airflow chart's render tests (`make helm-tool`, GMP_HELM).
    from tests.deploy.helm_render import helm_binary

    helm = helm_binary()
    if not helm.is_file():
        pytest.fail(f"no helm at {helm}: run `make helm-tool` (or set GMP_HELM)")
    return str(helm)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_task_node_pool_chart_renders_what_the_capacity_model_assumes(env: str, tmp_path: Path) -> None:
    """The real helm renders ./nodepool-chart with the env's Terraform arguments into the NodePool
    whose limit and instance types tests/deploy/capacity.py counts with."""
    helm = _helm()
    pool = capacity.terraform_task_pool(env)
    values = {
        "name": "airflow-tasks",
        "instanceProfile": f"game-market-{env}-karpenter-node",
        "amiAlias": "al2023@latest",
        "subnetIds": ["subnet-0a", "subnet-0b", "subnet-0c"],
        "securityGroupIds": ["sg-0a"],
        "diskSizeGi": 50,
        "instanceTypes": pool.instance_types,
        "capacityTypes": pool.capacity_types,
        "cpuLimit": pool.max_vcpus,
        "consolidateAfter": "5m",
        "drainTimeout": "2h",
        "tags": {"Project": "game-market-pipeline", "Environment": env},
    }
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(values))
    chart = TF / "modules" / "karpenter" / "nodepool-chart"
    lint = subprocess.run(
        [helm, "lint", "--strict", str(chart), "-f", str(values_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    rendered = subprocess.run(
        [helm, "template", "karpenter-node-pool", str(chart), "-f", str(values_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    documents = {doc["kind"]: doc for doc in yaml.safe_load_all(rendered) if doc}
    assert set(documents) == {"NodePool", "EC2NodeClass"}
    node_pool = documents["NodePool"]["spec"]
    assert node_pool["limits"] == {"cpu": str(pool.max_vcpus)}
    requirements = {r["key"]: r["values"] for r in node_pool["template"]["spec"]["requirements"]}
    assert requirements["node.kubernetes.io/instance-type"] == pool.instance_types
    assert requirements["karpenter.sh/capacity-type"] == pool.capacity_types
    assert (
        node_pool["template"]["spec"]["nodeClassRef"]["name"] == documents["EC2NodeClass"]["metadata"]["name"]
    )
    assert re.fullmatch(r"([0-9]+(s|m|h))+", node_pool["template"]["spec"]["terminationGracePeriod"])
    node_class = documents["EC2NodeClass"]["spec"]
    assert node_class["metadataOptions"]["httpTokens"] == "required"
    assert node_class["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert node_class["blockDeviceMappings"][0]["ebs"] == {
        "volumeSize": "50Gi",
        "volumeType": "gp3",
        "encrypted": True,
        "deleteOnTermination": True,
    }
    assert [t["id"] for t in node_class["subnetSelectorTerms"]] == values["subnetIds"]
    assert "role" not in node_class, "instanceProfile (made by Terraform) and role are mutually exclusive"
