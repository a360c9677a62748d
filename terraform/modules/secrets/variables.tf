variable "name_prefix" {
  type        = string
  description = "Prefix of the secret names and the KMS alias, e.g. \"game-market-dev\"."
}

variable "connections_prefix" {
  type        = string
  description = "Secrets Manager name prefix of the Airflow connections: the secrets backend's connections_prefix. Defaults to \"<name_prefix>/airflow/connections\"."
  default     = null
}

variable "connection_ids" {
  type        = list(string)
  description = "Airflow connection ids that get a secret (the values are put outside Terraform)."
  default     = ["warehouse_db", "lake_s3", "rawg_api", "tcgdex_api", "pokemontcg_api", "pokeapi_api"]

  validation {
    condition     = alltrue([for id in var.connection_ids : can(regex("^[a-z][a-z0-9_]*$", id))])
    error_message = "Connection ids are lower_snake_case."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored (7 to 30)."
  default     = 30

  validation {
    condition     = var.recovery_window_days >= 7 && var.recovery_window_days <= 30
    error_message = "recovery_window_days must be between 7 and 30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource (on top of the provider's default_tags)."
  default     = {}
}
