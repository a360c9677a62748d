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

# --- Optional: the Airflow release itself ----------------------------------------------------------

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
