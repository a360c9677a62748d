variable "release_name" {
  type        = string
  description = "Helm release name. The Kubernetes secret contents (helm/scripts/bootstrap_secrets.py) assume \"airflow\" (PgBouncer service airflow-pgbouncer)."
  default     = "airflow"
}

variable "namespace" {
  type        = string
  description = "Kubernetes namespace of the release (created by helm/scripts/bootstrap_secrets.py together with the secrets)."
  default     = "airflow"
}

variable "chart_version" {
  type        = string
  description = "Version of the official apache-airflow/airflow chart (helm/README.md explains the pin)."
  default     = "1.19.0"
}

variable "values" {
  type        = list(string)
  description = "Values documents in merge order: helm/values.yaml, helm/values-<env>.yaml, the rendered infra values."
}

variable "image_tag" {
  type        = string
  description = "Tag of the Airflow image in ECR to deploy (defaultAirflowTag)."

  validation {
    condition     = length(var.image_tag) > 0 && var.image_tag != "latest"
    error_message = "Deploy a pinned image tag (e.g. the git commit), never latest."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "How long Helm waits for the release's pods and jobs."
  default     = 1200
}
