variable "name_prefix" {
  type        = string
  description = "Prefix of the bucket names, e.g. \"game-market-dev\". The account ID and region are appended (bucket names are global)."
}

variable "bronze_prefix" {
  type        = string
  description = "Key prefix of the raw API pages (Parquet parts, checkpoints, manifests) in the lake bucket; must match lake.bronze_prefix of include/config/endpoints.yaml."
  default     = "bronze"
}

variable "quarantine_prefix" {
  type        = string
  description = "Key prefix of records that failed validation in the lake bucket; must match lake.quarantine_prefix of include/config/endpoints.yaml."
  default     = "quarantine"
}

variable "bronze_infrequent_access_after_days" {
  type        = number
  description = "Days after which bronze objects move to S3 Standard-IA (they are read again only for backfills)."
  default     = 30
}

variable "bronze_glacier_ir_after_days" {
  type        = number
  description = "Days after which bronze objects move to S3 Glacier Instant Retrieval (still readable in milliseconds by a backfill)."
  default     = 90
}

variable "quarantine_expiration_days" {
  type        = number
  description = "Days after which quarantined records are deleted."
  default     = 365
}

variable "noncurrent_version_expiration_days" {
  type        = number
  description = "Days to keep overwritten or deleted object versions."
  default     = 30
}

variable "logs_prefix" {
  type        = string
  description = "Key prefix of the Airflow task logs in the logs bucket."
  default     = "airflow"
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep Airflow task logs."
  default     = 365
}

variable "access_log_retention_days" {
  type        = number
  description = "Days to keep S3 server access logs of the lake and logs buckets."
  default     = 365
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty buckets (dev only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
