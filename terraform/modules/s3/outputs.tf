output "lake_bucket_name" {
  description = "Name of the lake bucket (Airflow's LAKE_BUCKET)."
  value       = aws_s3_bucket.lake.bucket
}

output "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "lake_kms_key_arn" {
  description = "KMS key encrypting the lake bucket."
  value       = aws_kms_key.lake.arn
}

output "bronze_prefix" {
  description = "Key prefix of the bronze layer in the lake bucket."
  value       = var.bronze_prefix
}

output "quarantine_prefix" {
  description = "Key prefix of quarantined records in the lake bucket."
  value       = var.quarantine_prefix
}

output "logs_bucket_name" {
  description = "Name of the Airflow task logs bucket."
  value       = aws_s3_bucket.logs.bucket
}

output "logs_bucket_arn" {
  description = "ARN of the Airflow task logs bucket."
  value       = aws_s3_bucket.logs.arn
}

output "logs_kms_key_arn" {
  description = "KMS key encrypting the logs bucket."
  value       = aws_kms_key.logs.arn
}

output "logs_prefix" {
  description = "Key prefix of the Airflow task logs in the logs bucket."
  value       = var.logs_prefix
}

output "access_logs_bucket_name" {
  description = "Name of the bucket receiving S3 server access logs."
  value       = aws_s3_bucket.access_logs.bucket
}
