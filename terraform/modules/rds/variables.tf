variable "identifier" {
  type        = string
  description = "RDS instance identifier, e.g. \"game-market-prod-warehouse\"."
}

variable "purpose" {
  type        = string
  description = "What the database holds, for descriptions and tags (e.g. \"dbt warehouse\", \"Airflow metadata\")."
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major (or major.minor) version. 15 or 16; minor upgrades are automatic."
  default     = "16"

  validation {
    condition     = contains(["15", "16"], split(".", var.engine_version)[0])
    error_message = "engine_version must be PostgreSQL 15 or 16."
  }
}

variable "instance_class" {
  type        = string
  description = "Instance class, e.g. db.t4g.micro (dev) or db.m7g.large (prod)."
  default     = "db.t4g.micro"
}

variable "allocated_storage_gib" {
  type        = number
  description = "Initial gp3 storage, in GiB."
  default     = 20
}

variable "max_allocated_storage_gib" {
  type        = number
  description = "Upper bound of storage autoscaling, in GiB."
  default     = 100
}

variable "db_name" {
  type        = string
  description = "Name of the database created with the instance."
}

variable "master_username" {
  type        = string
  description = "Master user name. Its password is generated and rotated by RDS in AWS Secrets Manager (manage_master_user_password); it never appears in Terraform."
  default     = "gmp_admin"
}

variable "vpc_id" {
  type        = string
  description = "VPC of the instance."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Isolated database subnets (at least two availability zones)."
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on the PostgreSQL port (the EKS cluster security group)."
}

variable "multi_az" {
  type        = bool
  description = "Synchronous standby in a second availability zone."
  default     = true
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse to delete the instance (turn off explicitly before a planned destroy)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups (point-in-time recovery window)."
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 1 and 35."
  }
}

variable "performance_insights_enabled" {
  type        = bool
  description = "Performance Insights (not available on the smallest instance classes)."
  default     = true
}

variable "monitoring_interval_seconds" {
  type        = number
  description = "Enhanced monitoring interval (0 turns it off; 1, 5, 10, 15, 30 or 60)."
  default     = 60
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
