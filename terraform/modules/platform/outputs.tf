output "name" {
  description = "Name prefix of the environment's resources (<project>-<environment>)."
  value       = local.name
}

output "region" {
  description = "AWS region of the environment."
  value       = local.region
}

output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API server."
  value       = module.eks.cluster_certificate_authority_data
}

output "kubernetes_version" {
  description = "Kubernetes minor version of the EKS cluster (the render tests validate manifests against it)."
  value       = var.kubernetes_version
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (IRSA roles outside this module, e.g. Karpenter's)."
  value       = module.eks.oidc_provider_arn
}

output "oidc_provider" {
  description = "Issuer of the cluster's OIDC provider without https:// (prefix of IRSA condition keys)."
  value       = module.eks.oidc_provider
}

output "node_subnet_ids" {
  description = "Private subnets of the nodes (managed node group and Karpenter task nodes)."
  value       = module.network.private_subnet_ids
}

output "cluster_security_group_id" {
  description = "Security group EKS gives the control plane and the nodes; the RDS instances admit it."
  value       = module.eks.cluster_security_group_id
}

output "airflow_namespace" {
  description = "Kubernetes namespace of the Airflow release."
  value       = var.airflow_namespace
}

output "ecr_repository_url" {
  description = "ECR repository of the Airflow image."
  value       = module.ecr.repository_url
}

output "lake_bucket_name" {
  description = "Lake bucket (bronze, quarantine)."
  value       = module.s3.lake_bucket_name
}

output "logs_bucket_name" {
  description = "Airflow task logs bucket."
  value       = module.s3.logs_bucket_name
}

output "warehouse_db" {
  description = "Warehouse database: address, port, database name, master user and the ARN of the RDS-managed master secret."
  value = {
    address                = module.warehouse_db.address
    port                   = module.warehouse_db.port
    db_name                = module.warehouse_db.db_name
    master_username        = module.warehouse_db.master_username
    master_user_secret_arn = module.warehouse_db.master_user_secret_arn
  }
}

output "metadata_db" {
  description = "Airflow metadata database: address, port, database name, master user and the ARN of the RDS-managed master secret."
  value = {
    address                = module.metadata_db.address
    port                   = module.metadata_db.port
    db_name                = module.metadata_db.db_name
    master_username        = module.metadata_db.master_username
    master_user_secret_arn = module.metadata_db.master_user_secret_arn
  }
}

output "connections_prefix" {
  description = "Secrets Manager prefix of the Airflow connections."
  value       = module.secrets.connections_prefix
}

output "connection_secret_names" {
  description = "Secrets Manager name of each Airflow connection, by connection id."
  value       = module.secrets.connection_secret_names
}

output "runtime_secret_name" {
  description = "Secrets Manager name of the Airflow runtime secret (written by helm/scripts/bootstrap_secrets.py)."
  value       = module.secrets.runtime_secret_name
}

output "airflow_role_arns" {
  description = "IRSA role ARN of each Airflow workload."
  value       = module.iam.role_arns
}

output "helm_infra_values" {
  description = "Helm values document with this environment's ECR repository, buckets, region, secrets backend settings and IRSA role ARNs."
  value       = local.helm_infra_values
}
