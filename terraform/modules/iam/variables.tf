variable "name_prefix" {
  type        = string
  description = "Prefix of the IAM role names, e.g. \"game-market-dev\"."
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the EKS cluster's IAM OIDC provider."
}

variable "oidc_provider" {
  type        = string
  description = "Issuer of the EKS cluster's OIDC provider without https:// (prefix of the :sub and :aud condition keys)."
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the Airflow release."
  default     = "airflow"
}

variable "service_accounts" {
  type = object({
    scheduler     = string
    api_server    = string
    dag_processor = string
    triggerer     = string
    worker        = string
  })
  description = "Kubernetes service account of each Airflow workload; must equal the serviceAccount.name values in helm/values.yaml (tests/deploy checks it)."
  default = {
    scheduler     = "airflow-scheduler"
    api_server    = "airflow-api-server"
    dag_processor = "airflow-dag-processor"
    triggerer     = "airflow-triggerer"
    worker        = "airflow-worker"
  }
}

variable "lake_bucket_arn" {
  type        = string
  description = "ARN of the lake bucket."
}

variable "lake_kms_key_arn" {
  type        = string
  description = "KMS key of the lake bucket."
}

variable "lake_prefixes" {
  type        = list(string)
  description = "Key prefixes of the lake bucket the task pods may read and write (bronze, quarantine)."
  default     = ["bronze", "quarantine"]
}

variable "logs_bucket_arn" {
  type        = string
  description = "ARN of the Airflow task logs bucket."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key of the logs bucket."
}

variable "logs_prefix" {
  type        = string
  description = "Key prefix of the Airflow task logs."
  default     = "airflow"
}

variable "connection_secret_arns" {
  type        = map(string)
  description = "Secrets Manager ARN of each Airflow connection, by connection id."
}

variable "secrets_kms_key_arn" {
  type        = string
  description = "KMS key encrypting the connection secrets."
}

variable "triggerer_connection_ids" {
  type        = list(string)
  description = "Connections the triggerer may read (deferred sensors poll the warehouse and the lake from there)."
  default     = ["warehouse_db", "lake_s3"]
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
