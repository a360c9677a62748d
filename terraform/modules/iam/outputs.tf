output "role_arns" {
  description = "IRSA role ARN of each Airflow workload (scheduler, api_server, dag_processor, triggerer, worker)."
  value       = { for workload, role in aws_iam_role.workload : workload => role.arn }
}

output "service_accounts" {
  description = "The service account each role trusts, as namespace/name, by workload."
  value       = { for workload, sa in local.workloads : workload => "${var.namespace}/${sa}" }
}
