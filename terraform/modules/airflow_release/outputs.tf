output "release_name" {
  description = "Name of the Helm release."
  value       = helm_release.airflow.name
}

output "namespace" {
  description = "Namespace of the Helm release."
  value       = helm_release.airflow.namespace
}

output "chart_version" {
  description = "Deployed chart version."
  value       = helm_release.airflow.version
}

output "status" {
  description = "Status of the Helm release."
  value       = helm_release.airflow.status
}
