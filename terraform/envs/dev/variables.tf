variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "eu-west-1"
}

variable "cluster_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs of the operators allowed to reach the Kubernetes API, e.g. [\"203.0.113.10/32\"]. Required: there is no safe default."

  validation {
    condition     = length(var.cluster_public_access_cidrs) > 0
    error_message = "cluster_public_access_cidrs is empty: EKS would open the public API endpoint to 0.0.0.0/0. List your operators' CIDRs, e.g. [\"203.0.113.10/32\"]."
  }

  # Valid IPv4 CIDRs, none broader than /8: 0.0.0.0/0 (however spelled) and tricks such as
  # 0.0.0.0/1 + 128.0.0.0/1 are the whole internet.
  validation {
    condition     = alltrue([for cidr in var.cluster_public_access_cidrs : try(cidrnetmask(cidr) != "" && tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "cluster_public_access_cidrs must be IPv4 CIDRs no broader than /8, e.g. 203.0.113.10/32: never 0.0.0.0/0, the Kubernetes API must not be open to the whole internet."
  }
}

variable "deploy_airflow" {
  type        = bool
  description = "Also manage the Airflow Helm release (after the image is pushed and helm/scripts/bootstrap_secrets.py has run)."
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
