variable "region" {
  type        = string
  description = "AWS region of the state bucket (use the environments' region)."
  default     = "eu-west-1"
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the state bucket name; the account ID and region are appended."
  default     = "game-market-pipeline-tfstate"
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Days to keep superseded state versions (the undo history of every apply)."
  default     = 90
}
