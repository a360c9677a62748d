variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster Karpenter adds nodes to."
}

variable "oidc_provider_arn" {
  type        = string
  description = "ARN of the cluster's IAM OIDC provider (the Federated principal of the controller's IRSA role)."
}

variable "oidc_provider" {
  type        = string
  description = "Issuer of the cluster's OIDC provider without https:// (the prefix of the IRSA condition keys)."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets Karpenter launches task nodes into (the same as the managed node group's)."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "Give Karpenter subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  type        = list(string)
  description = "Security groups of the task nodes: the EKS cluster security group, which the RDS instances admit."

  validation {
    condition     = length(var.security_group_ids) > 0
    error_message = "Task nodes need the cluster security group."
  }
}

variable "chart_version" {
  type        = string
  description = "Version of the Karpenter Helm chart (oci://public.ecr.aws/karpenter/karpenter); it must support the cluster's Kubernetes version (terraform/README.md, Autoscaling)."
  default     = "1.9.0"
}

variable "namespace" {
  type        = string
  description = "Namespace of the Karpenter controller (its service account is trusted by the IRSA role)."
  default     = "kube-system"
}

variable "controller_replicas" {
  type        = number
  description = "Replicas of the Karpenter controller (leader election; 2 survives a node loss)."
  default     = 2

  validation {
    condition     = var.controller_replicas >= 1
    error_message = "controller_replicas must be at least 1."
  }
}

variable "task_instance_types" {
  type        = list(string)
  description = "EC2 instance types the task node pool may launch; keep them the same size so the capacity in terraform/README.md holds whichever one EC2 has (tests/deploy/capacity.py knows their vCPU, memory and ENI limits)."
  default     = ["m6i.xlarge", "m7i.xlarge", "m6a.xlarge"]

  validation {
    condition     = length(var.task_instance_types) > 0
    error_message = "List at least one instance type for the task node pool."
  }
}

variable "task_capacity_types" {
  type        = list(string)
  description = "Capacity types of the task node pool: on-demand and/or spot (Karpenter prefers spot when both are listed)."
  default     = ["on-demand"]

  validation {
    condition     = length(var.task_capacity_types) > 0 && alltrue([for t in var.task_capacity_types : contains(["on-demand", "spot"], t)])
    error_message = "task_capacity_types must list on-demand and/or spot."
  }
}

variable "task_max_vcpus" {
  type        = number
  description = "The node pool's CPU limit: Karpenter launches no node that would take the pool's total vCPUs above it. Sets the environment's maximum of concurrent task pods (terraform/README.md, Capacity)."
  default     = 16

  validation {
    condition     = var.task_max_vcpus > 0
    error_message = "task_max_vcpus must be positive."
  }
}

variable "task_node_disk_size_gib" {
  type        = number
  description = "Size of each task node's encrypted gp3 root volume, in GiB."
  default     = 50
}

variable "ami_alias" {
  type        = string
  description = "EC2NodeClass amiSelectorTerms alias: al2023@latest follows EKS's newest AL2023 AMI for the cluster version (nodes roll by drift); pin e.g. al2023@v20261120 to roll on your schedule."
  default     = "al2023@latest"

  validation {
    condition     = can(regex("^al2023@(latest|v[0-9]{8})$", var.ami_alias))
    error_message = "ami_alias must be al2023@latest or al2023@vYYYYMMDD."
  }
}

variable "consolidate_after" {
  type        = string
  description = "How long a task node must be empty or underused before Karpenter removes or replaces it (a Go duration, e.g. 5m)."
  default     = "5m"
}

variable "task_drain_timeout" {
  type        = string
  description = "NodePool terminationGracePeriod: how long an expired or drifted task node waits for its running tasks (karpenter.sh/do-not-disrupt) before their pods are deleted (a Go duration, e.g. 2h)."
  default     = "2h"

  validation {
    condition     = can(regex("^([0-9]+(s|m|h))+$", var.task_drain_timeout))
    error_message = "task_drain_timeout is a duration such as 90m or 2h."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every AWS resource, including the EC2 instances Karpenter launches."
  default     = {}
}
