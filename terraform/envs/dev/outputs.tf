output "region" {
  description = "AWS region of the environment."
  value       = module.platform.region
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.platform.cluster_name
}

output "airflow_namespace" {
  description = "Kubernetes namespace of the Airflow release."
  value       = module.platform.airflow_namespace
}

output "ecr_repository_url" {
  description = "ECR repository to push the Airflow image to."
  value       = module.platform.ecr_repository_url
}

output "lake_bucket_name" {
  description = "Lake bucket."
  value       = module.platform.lake_bucket_name
}

output "logs_bucket_name" {
  description = "Airflow task logs bucket."
  value       = module.platform.logs_bucket_name
}

output "warehouse_db" {
  description = "Warehouse database endpoint and master secret ARN."
  value       = module.platform.warehouse_db
}

output "metadata_db" {
  description = "Airflow metadata database endpoint and master secret ARN."
  value       = module.platform.metadata_db
}

output "connections_prefix" {
  description = "Secrets Manager prefix of the Airflow connections."
  value       = module.platform.connections_prefix
}

output "connection_secret_names" {
  description = "Secrets Manager name of each Airflow connection."
  value       = module.platform.connection_secret_names
}

output "runtime_secret_name" {
  description = "Secrets Manager name of the Airflow runtime secret."
  value       = module.platform.runtime_secret_name
}

output "airflow_role_arns" {
  description = "IRSA role ARN of each Airflow workload."
  value       = module.platform.airflow_role_arns
}

output "helm_infra_values" {
  description = "Helm values document for this environment (pass it to helm with -f)."
  value       = module.platform.helm_infra_values
}

output "kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster."
  value       = module.platform.kubernetes_version
}

output "karpenter_node_pool" {
  description = "Karpenter NodePool of the task nodes (kubectl get nodepool,nodeclaim)."
  value       = module.karpenter.node_pool_name
}
