# dev: the same shape as prod, sized and protected for a development environment: one NAT gateway,
# single-AZ databases without deletion protection, burstable instances, destroyable buckets.

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "game-market-pipeline"
      Environment = "dev"
      ManagedBy   = "terraform"
    }
  }
}

module "platform" {
  source = "../../modules/platform"

  environment = "dev"

  vpc_cidr           = "10.40.0.0/16"
  single_nat_gateway = true

  cluster_public_access_cidrs = var.cluster_public_access_cidrs
  node_instance_types         = ["m6i.large"]
  node_min_size               = 1
  node_desired_size           = 2
  node_max_size               = 3

  warehouse_instance_class     = "db.t4g.micro"
  metadata_instance_class      = "db.t4g.micro"
  multi_az                     = false
  deletion_protection          = false
  backup_retention_days        = 7
  performance_insights_enabled = false

  task_log_retention_days      = 30
  force_destroy                = true
  secrets_recovery_window_days = 7
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

# Task nodes: spot first (cheaper; Karpenter falls back to on-demand and drains a reclaimed node
# through the interruption queue), at most 8 vCPUs = 2 x xlarge = 30 task pods of the dev size
# (terraform/README.md, Capacity).
module "karpenter" {
  source = "../../modules/karpenter"

  cluster_name       = module.platform.cluster_name
  oidc_provider_arn  = module.platform.oidc_provider_arn
  oidc_provider      = module.platform.oidc_provider
  subnet_ids         = module.platform.node_subnet_ids
  security_group_ids = [module.platform.cluster_security_group_id]

  controller_replicas = 1
  task_instance_types = ["m6i.xlarge", "m7i.xlarge", "m6a.xlarge"]
  task_capacity_types = ["spot", "on-demand"]
  task_max_vcpus      = 8

  # default_tags do not reach the instances Karpenter launches: tag them here.
  tags = {
    Project     = "game-market-pipeline"
    Environment = "dev"
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
    file("${path.root}/../../../helm/values-dev.yaml"),
    module.platform.helm_infra_values,
  ]
}
