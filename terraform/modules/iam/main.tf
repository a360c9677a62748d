# One IRSA role per Airflow workload, each trusting exactly one Kubernetes service account, each
# with only what that workload does:
#
#   workload       lake bucket                      logs bucket          connection secrets
#   worker         read/write bronze/, quarantine/  read/write airflow/  read all six
#   triggerer      read bronze/, quarantine/        read/write airflow/  read triggerer_connection_ids
#   scheduler      -                                read/write airflow/  -
#   dag_processor  -                                read/write airflow/  -
#   api_server     -                                read airflow/        -
#
# KMS use is allowed only through the service that owns the data (kms:ViaService).

data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region

  lake_object_arns = [for prefix in var.lake_prefixes : "${var.lake_bucket_arn}/${prefix}/*"]
  lake_list_prefix = flatten([for prefix in var.lake_prefixes : [prefix, "${prefix}/*"]])
  logs_object_arns = ["${var.logs_bucket_arn}/${var.logs_prefix}/*"]
  logs_list_prefix = [var.logs_prefix, "${var.logs_prefix}/*"]

  worker_secret_arns    = values(var.connection_secret_arns)
  triggerer_secret_arns = [for id in var.triggerer_connection_ids : var.connection_secret_arns[id]]

  workloads = {
    scheduler     = var.service_accounts.scheduler
    api_server    = var.service_accounts.api_server
    dag_processor = var.service_accounts.dag_processor
    triggerer     = var.service_accounts.triggerer
    worker        = var.service_accounts.worker
  }
}

data "aws_iam_policy_document" "assume" {
  for_each = local.workloads

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:sub"
      values   = ["system:serviceaccount:${var.namespace}:${each.value}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${var.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "workload" {
  for_each = local.workloads

  name                 = "${var.name_prefix}-airflow-${replace(each.key, "_", "-")}"
  description          = "IRSA role of the Airflow ${each.key} (service account ${var.namespace}/${each.value})"
  assume_role_policy   = data.aws_iam_policy_document.assume[each.key].json
  max_session_duration = 3600

  tags = merge(var.tags, { AirflowWorkload = each.key })
}

# --- Statement building blocks -------------------------------------------------------------------

data "aws_iam_policy_document" "logs_read_write" {
  statement {
    sid       = "ListTaskLogs"
    actions   = ["s3:ListBucket"]
    resources = [var.logs_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.logs_list_prefix
    }
  }

  statement {
    sid       = "ReadWriteTaskLogs"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = local.logs_object_arns
  }

  statement {
    sid       = "UseLogsKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.logs_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "logs_read" {
  statement {
    sid       = "ListTaskLogs"
    actions   = ["s3:ListBucket"]
    resources = [var.logs_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.logs_list_prefix
    }
  }

  statement {
    sid       = "ReadTaskLogs"
    actions   = ["s3:GetObject"]
    resources = local.logs_object_arns
  }

  statement {
    sid       = "DecryptLogsThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [var.logs_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

# --- Policies per workload -----------------------------------------------------------------------

data "aws_iam_policy_document" "worker" {
  source_policy_documents = [data.aws_iam_policy_document.logs_read_write.json]

  statement {
    sid       = "ListLakePrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.lake_list_prefix
    }
  }

  statement {
    sid       = "ReadWriteLakePrefixes"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = local.lake_object_arns
  }

  statement {
    sid       = "UseLakeKeyThroughS3"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.lake_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadConnectionSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = local.worker_secret_arns
  }

  statement {
    sid       = "DecryptSecretsThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "triggerer" {
  source_policy_documents = [data.aws_iam_policy_document.logs_read_write.json]

  statement {
    sid       = "ListLakePrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.lake_list_prefix
    }
  }

  statement {
    sid       = "ReadLakePrefixes"
    actions   = ["s3:GetObject"]
    resources = local.lake_object_arns
  }

  statement {
    sid       = "DecryptLakeThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [var.lake_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadTriggererConnectionSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = local.triggerer_secret_arns
  }

  statement {
    sid       = "DecryptSecretsThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "worker" {
  name   = "airflow-worker"
  role   = aws_iam_role.workload["worker"].id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_iam_role_policy" "triggerer" {
  name   = "airflow-triggerer"
  role   = aws_iam_role.workload["triggerer"].id
  policy = data.aws_iam_policy_document.triggerer.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "airflow-scheduler-task-logs"
  role   = aws_iam_role.workload["scheduler"].id
  policy = data.aws_iam_policy_document.logs_read_write.json
}

resource "aws_iam_role_policy" "dag_processor" {
  name   = "airflow-dag-processor-logs"
  role   = aws_iam_role.workload["dag_processor"].id
  policy = data.aws_iam_policy_document.logs_read_write.json
}

resource "aws_iam_role_policy" "api_server" {
  name   = "airflow-api-server-read-task-logs"
  role   = aws_iam_role.workload["api_server"].id
  policy = data.aws_iam_policy_document.logs_read.json
}
