# prod: NAT gateway per availability zone, Multi-AZ databases with deletion protection, 30 days of
# backups and Performance Insights, buckets that terraform destroy cannot empty.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "game-market-pipeline"
      Environment = "prod"
      ManagedBy   = "terraform"
    }
  }
}

module "platform" {
  source = "../../modules/platform"

  environment = "prod"

  vpc_cidr           = "10.50.0.0/16"
  single_nat_gateway = false

  cluster_public_access_cidrs = var.cluster_public_access_cidrs
  node_instance_types         = ["m6i.xlarge"]
  node_min_size               = 3
  node_desired_size           = 3
  node_max_size               = 6

  warehouse_instance_class            = "db.m7g.large"
  warehouse_allocated_storage_gib     = 100
  warehouse_max_allocated_storage_gib = 1000
  metadata_instance_class             = "db.m7g.large"
  metadata_allocated_storage_gib      = 50
  multi_az                            = true
  deletion_protection                 = true
  backup_retention_days               = 30
  performance_insights_enabled        = true

  task_log_retention_days      = 365
  force_destroy                = false
  secrets_recovery_window_days = 30
}

# --- Kubernetes: node autoscaling (always) and, optionally, the Airflow release ------------------

provider "helm" {
  kubernetes = {
    host                   = module.platform.cluster_endpoint
    cluster_ca_certificate = base64decode(module.platform.cluster_certificate_authority_data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", module.platform.cluster_name, "--region", var.region]
    }
  }
}

# Task nodes: on-demand (a reclaimed spot node would cut long dbt builds), at most 80 vCPUs =
# 5 x 4xlarge = 75 task pods of 1 CPU / 2 GiB, above parallelism 64 (terraform/README.md, Capacity).
module "karpenter" {
  source = "../../modules/karpenter"

  cluster_name       = module.platform.cluster_name
  oidc_provider_arn  = module.platform.oidc_provider_arn
  oidc_provider      = module.platform.oidc_provider
  subnet_ids         = module.platform.node_subnet_ids
  security_group_ids = [module.platform.cluster_security_group_id]

  controller_replicas = 2
  task_instance_types = ["m6i.4xlarge", "m7i.4xlarge", "m6a.4xlarge"]
  task_capacity_types = ["on-demand"]
  task_max_vcpus      = 80

  # default_tags do not reach the instances Karpenter launches: tag them here.
  tags = {
    Project     = "game-market-pipeline"
    Environment = "prod"
    ManagedBy   = "karpenter"
  }
}

# --- Optional: the Airflow release itself ----------------------------------------------------------

module "airflow_release" {
  source = "../../modules/airflow_release"
  count  = var.deploy_airflow ? 1 : 0

  namespace     = module.platform.airflow_namespace
  chart_version = var.chart_version
  image_tag     = var.image_tag
  values = [
    file("${path.root}/../../../helm/values.yaml"),
    file("${path.root}/../../../helm/values-pod-template.yaml"),
    file("${path.root}/../../../helm/values-prod.yaml"),
    module.platform.helm_infra_values,
  ]
}
