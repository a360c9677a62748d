variable "project" {
  type        = string
  description = "Project name, the first part of every resource name."
  default     = "game-market"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be lowercase letters, digits and dashes (at most 21 characters)."
  }
}

variable "environment" {
  type        = string
  description = "Environment name (dev, prod, ...), the second part of every resource name."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be a short lowercase word, e.g. dev or prod."
  }
}

# --- Network -------------------------------------------------------------------------------------

variable "vpc_cidr" {
  type        = string
  description = "IPv4 CIDR of the environment's VPC (/16)."
  default     = "10.40.0.0/16"
}

variable "availability_zones" {
  type        = list(string)
  description = "Three availability zones; empty picks the region's zones a, b and c."
  default     = []
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway instead of one per availability zone (cheaper, less available)."
  default     = false
}

variable "interface_endpoints" {
  type        = list(string)
  description = "AWS services reached through interface VPC endpoints (S3 always has a gateway endpoint)."
  default     = ["secretsmanager", "sts"]
}

# --- EKS -----------------------------------------------------------------------------------------

# The one place the Kubernetes version is set: module eks takes it from here, the task nodes follow
# the cluster (Karpenter's al2023 alias), and the render tests validate manifests against it.
# 1.35 is in EKS standard support until 2027-03-27 (terraform/README.md, "Kubernetes version").
variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the EKS cluster and its nodes; keep it in EKS standard support (terraform/README.md)."
  default     = "1.35"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version is a minor version such as 1.35."
  }
}

variable "cluster_endpoint_public_access" {
  type        = bool
  description = "Expose the Kubernetes API publicly, restricted to cluster_public_access_cidrs."
  default     = true
}

variable "cluster_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs of the operators allowed to reach the public Kubernetes API endpoint (never a /0); required while cluster_endpoint_public_access is true."
  default     = []

  # EKS opens a public endpoint without CIDRs to 0.0.0.0/0: refuse that combination.
  validation {
    condition     = !var.cluster_endpoint_public_access || length(var.cluster_public_access_cidrs) > 0
    error_message = "cluster_endpoint_public_access needs at least one CIDR in cluster_public_access_cidrs (an empty list means 0.0.0.0/0)."
  }

  validation {
    condition     = alltrue([for cidr in var.cluster_public_access_cidrs : try(cidrnetmask(cidr) != "" && tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "cluster_public_access_cidrs must be IPv4 CIDRs no broader than /8: never 0.0.0.0/0, the Kubernetes API must not be open to the whole internet."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the EKS managed node group."
  default     = ["m6i.large"]
}

variable "node_capacity_type" {
  type        = string
  description = "ON_DEMAND or SPOT nodes."
  default     = "ON_DEMAND"
}

variable "node_min_size" {
  type        = number
  description = "Minimum number of EKS nodes."
  default     = 2
}

variable "node_desired_size" {
  type        = number
  description = "Initial number of EKS nodes."
  default     = 2
}

variable "node_max_size" {
  type        = number
  description = "Maximum number of EKS nodes."
  default     = 4
}

# --- Databases -----------------------------------------------------------------------------------

variable "postgres_engine_version" {
  type        = string
  description = "PostgreSQL major version of both RDS instances (15 or 16)."
  default     = "16"
}

variable "warehouse_instance_class" {
  type        = string
  description = "Instance class of the warehouse database (dbt builds run here)."
  default     = "db.t4g.micro"
}

variable "warehouse_allocated_storage_gib" {
  type        = number
  description = "Initial storage of the warehouse database, in GiB."
  default     = 20
}

variable "warehouse_max_allocated_storage_gib" {
  type        = number
  description = "Storage autoscaling limit of the warehouse database, in GiB."
  default     = 200
}

variable "metadata_instance_class" {
  type        = string
  description = "Instance class of the Airflow metadata database."
  default     = "db.t4g.micro"
}

variable "metadata_allocated_storage_gib" {
  type        = number
  description = "Initial storage of the Airflow metadata database, in GiB."
  default     = 20
}

variable "multi_az" {
  type        = bool
  description = "Multi-AZ standby for both databases."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection for both databases."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Automated backup retention of both databases, in days."
  default     = 14
}

variable "performance_insights_enabled" {
  type        = bool
  description = "Performance Insights on both databases (needs an instance class that offers it)."
  default     = true
}

# --- Storage, secrets, image ---------------------------------------------------------------------

variable "task_log_retention_days" {
  type        = number
  description = "Days to keep Airflow task logs in the logs bucket."
  default     = 365
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete non-empty buckets and the ECR repository with its images (dev only)."
  default     = false
}

variable "connection_ids" {
  type        = list(string)
  description = "Airflow connections stored in Secrets Manager (docs/CONTRACTS.md, Connections)."
  default     = ["warehouse_db", "lake_s3", "rawg_api", "tcgdex_api", "pokemontcg_api", "pokeapi_api"]
}

variable "secrets_recovery_window_days" {
  type        = number
  description = "Days a deleted secret stays restorable."
  default     = 30
}

variable "airflow_namespace" {
  type        = string
  description = "Kubernetes namespace of the Airflow release (IRSA trust policies name it)."
  default     = "airflow"
}

variable "tags" {
  type        = map(string)
  description = "Extra tags on every resource."
  default     = {}
}
