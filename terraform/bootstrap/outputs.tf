output "state_bucket" {
  description = "Name of the state bucket: -backend-config=\"bucket=...\" of envs/dev and envs/prod."
  value       = aws_s3_bucket.state.bucket
}

output "region" {
  description = "Region of the state bucket: -backend-config=\"region=...\"."
  value       = var.region
}

output "kms_key_arn" {
  description = "KMS key encrypting the state."
  value       = aws_kms_key.state.arn
}
