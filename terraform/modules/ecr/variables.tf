variable "name" {
  type        = string
  description = "Name of the ECR repository of the Airflow image, e.g. \"game-market-dev/airflow\"."
}

variable "keep_images" {
  type        = number
  description = "Number of most recent images kept; older ones are expired."
  default     = 30
}

variable "force_delete" {
  type        = bool
  description = "Allow terraform destroy to delete the repository with images in it (dev only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
