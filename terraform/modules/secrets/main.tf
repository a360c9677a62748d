# The secret *containers* of one environment, encrypted with a KMS key of this module. Terraform
# never writes a value: the connection JSON is put with `aws secretsmanager put-secret-value`
# (README, "Deploy to AWS") or by helm/scripts/bootstrap_secrets.py, so no credential can end up in
# the Terraform state.
#
#   <connections_prefix>/<conn_id>   one per Airflow connection, read by the Amazon provider's
#                                    SecretsManagerBackend in the pods (IRSA)
#   <name_prefix>/airflow/runtime    Fernet key, API secret key, JWT secret, the admin user and the
#                                    database app-user passwords: read only by the operator who runs
#                                    helm/scripts/bootstrap_secrets.py, which turns them into
#                                    Kubernetes secrets

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id         = data.aws_caller_identity.current.account_id
  partition          = data.aws_partition.current.partition
  connections_prefix = coalesce(var.connections_prefix, "${var.name_prefix}/airflow/connections")
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A KMS key policy's Resource "*" means this key only; the account root keeps administration as AWS requires
  #checkov:skip=CKV_AWS_111:A KMS key policy's Resource "*" means this key only; the account root keeps administration as AWS requires
  #checkov:skip=CKV_AWS_356:A KMS key policy's Resource "*" means this key only
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: Airflow connection and runtime secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}-secrets"
  target_key_id = aws_kms_key.this.key_id
}

resource "aws_secretsmanager_secret" "connection" {
  #checkov:skip=CKV2_AWS_57:The values are third-party API keys and connection JSON set outside Terraform; no rotation Lambda can rotate a RAWG or pokemontcg.io key
  for_each = toset(var.connection_ids)

  name                    = "${local.connections_prefix}/${each.key}"
  description             = "Airflow connection ${each.key} (JSON: conn_type, host, login, password, port, schema, extra)"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_days

  tags = merge(var.tags, { AirflowConnection = each.key })
}

resource "aws_secretsmanager_secret" "runtime" {
  #checkov:skip=CKV2_AWS_57:Rotating the Fernet key or the JWT secret needs a coordinated Airflow restart (helm/scripts/bootstrap_secrets.py), not a rotation Lambda
  name                    = "${var.name_prefix}/airflow/runtime"
  description             = "Airflow runtime secrets (Fernet key, API secret key, JWT secret, admin and database app-user passwords); written by helm/scripts/bootstrap_secrets.py"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.recovery_window_days

  tags = var.tags
}
