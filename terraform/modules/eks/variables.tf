variable "name" {
  type        = string
  description = "Name of the EKS cluster, e.g. \"game-market-dev\"."
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane and the managed node group (set by module platform, the single place it is chosen)."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets (one per availability zone) for the control plane ENIs and the nodes."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "EKS needs subnets in at least two availability zones."
  }
}

variable "endpoint_public_access" {
  type        = bool
  description = "Expose the Kubernetes API endpoint publicly, restricted to public_access_cidrs (operators run kubectl/helm from there). False means private access only (VPN or bastion)."
  default     = false
}

variable "public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the public Kubernetes API endpoint, e.g. [\"203.0.113.10/32\"]. Never 0.0.0.0/0."
  default     = []

  # Valid IPv4 CIDRs, none broader than /8: 0.0.0.0/0 (however spelled) and tricks such as
  # 0.0.0.0/1 + 128.0.0.0/1 are the whole internet.
  validation {
    condition     = alltrue([for cidr in var.public_access_cidrs : try(cidrnetmask(cidr) != "" && tonumber(split("/", cidr)[1]) >= 8, false)])
    error_message = "The Kubernetes API must not be open to the whole internet: list your operators' IPv4 CIDRs, none broader than /8."
  }

  # EKS opens a public endpoint without CIDRs to 0.0.0.0/0: refuse that combination.
  validation {
    condition     = !var.endpoint_public_access || length(var.public_access_cidrs) > 0
    error_message = "endpoint_public_access needs at least one CIDR in public_access_cidrs."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the managed node group (Airflow components and KubernetesExecutor task pods)."
  default     = ["m6i.large"]
}

variable "node_capacity_type" {
  type        = string
  description = "ON_DEMAND or SPOT for the managed node group."
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.node_capacity_type)
    error_message = "node_capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "node_ami_type" {
  type        = string
  description = "AMI type of the managed node group."
  default     = "AL2023_x86_64_STANDARD"
}

variable "node_min_size" {
  type        = number
  description = "Minimum number of nodes."
  default     = 2
}

variable "node_desired_size" {
  type        = number
  description = "Initial number of nodes of the managed node group (Terraform ignores later changes, e.g. a manual scale)."
  default     = 2
}

variable "node_max_size" {
  type        = number
  description = "Maximum number of nodes."
  default     = 4
}

variable "node_disk_size_gib" {
  type        = number
  description = "Size of each node's encrypted gp3 root volume, in GiB."
  default     = 50
}

variable "addons" {
  type        = list(string)
  description = "EKS managed add-ons to install, at the most recent version compatible with the cluster unless addon_versions pins one."
  default     = ["vpc-cni", "kube-proxy", "coredns"]
}

variable "addon_versions" {
  type        = map(string)
  description = "Pinned versions of add-ons, by name (e.g. { coredns = \"v1.12.1-eksbuild.2\" }); add-ons not listed get the most recent compatible version."
  default     = {}
}

variable "log_retention_days" {
  type        = number
  description = "Days to keep the control plane logs in CloudWatch Logs."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
