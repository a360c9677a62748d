variable "name" {
  type        = string
  description = "Name prefix of every network resource, e.g. \"game-market-dev\"."
}

variable "cidr_block" {
  type        = string
  description = "IPv4 CIDR of the VPC. A /16 leaves room for three /20 node subnets (the VPC CNI gives every pod a VPC address)."
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 16
    error_message = "cidr_block must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "availability_zones" {
  type        = list(string)
  description = "Exactly three availability zones; empty means the region's zones a, b and c."
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 3
    error_message = "Give exactly three availability zones, or none to pick the first three of the region."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all private subnets (cheaper, one AZ of failure) instead of one per AZ."
  default     = false
}

variable "interface_endpoints" {
  type        = list(string)
  description = "AWS services reached through interface VPC endpoints from the private subnets (Secrets Manager for the Airflow secrets backend, STS for IRSA). S3 always gets a gateway endpoint."
  default     = ["secretsmanager", "sts"]
}

variable "flow_log_retention_days" {
  type        = number
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  default     = 365
}

variable "cluster_name" {
  type        = string
  description = "EKS cluster name, for the subnet tags the AWS load balancer controller looks for."
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
