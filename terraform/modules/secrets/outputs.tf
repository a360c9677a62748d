output "connections_prefix" {
  description = "Secrets Manager prefix of the Airflow connections (SecretsManagerBackend connections_prefix)."
  value       = local.connections_prefix
}

output "connection_secret_arns" {
  description = "ARN of each connection's secret, by connection id."
  value       = { for id, secret in aws_secretsmanager_secret.connection : id => secret.arn }
}

output "connection_secret_names" {
  description = "Name of each connection's secret, by connection id."
  value       = { for id, secret in aws_secretsmanager_secret.connection : id => secret.name }
}

output "runtime_secret_arn" {
  description = "ARN of the Airflow runtime secret (Fernet key, API secret key, JWT secret, passwords)."
  value       = aws_secretsmanager_secret.runtime.arn
}

output "runtime_secret_name" {
  description = "Name of the Airflow runtime secret."
  value       = aws_secretsmanager_secret.runtime.name
}

output "kms_key_arn" {
  description = "KMS key encrypting the secrets (readers need kms:Decrypt through Secrets Manager)."
  value       = aws_kms_key.this.arn
}
