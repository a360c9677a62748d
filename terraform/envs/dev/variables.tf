variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "eu-west-1"
}

variable "cluster_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs of the operators allowed to reach the Kubernetes API, e.g. [\"203.0.113.10/32\"]. Required: there is no safe default."
}

variable "deploy_airflow" {
  type        = bool
  description = "Also manage the Airflow Helm release (after the image is pushed and helm/scripts/bootstrap-secrets.sh has run)."
  default     = false
}

variable "image_tag" {
  type        = string
  description = "Tag of the Airflow image in ECR, deployed when deploy_airflow is true."
  default     = ""
}

variable "chart_version" {
  type        = string
  description = "Version of the official Airflow Helm chart."
  default     = "1.19.0"
}
