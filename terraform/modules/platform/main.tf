# Everything one environment runs on, wired together. The env roots (envs/dev, envs/prod) call this
# module with their sizes and safety settings, so both environments always have the same shape.
#
# Two RDS instances, not two databases on one instance:
# * the Airflow metadata database is latency-critical (scheduler heartbeats, row locks, every task
#   state change) while the warehouse runs long, I/O-heavy dbt builds; on one instance a big build
#   slows scheduling down and a runaway query can take the scheduler with it;
# * they differ in size, maintenance and recovery needs (restoring the warehouse to an earlier
#   point must not roll Airflow's state back, and vice versa);
# * separate master secrets and security boundaries. In dev both are db.t4g.micro, so the second
#   instance costs about as much as a coffee a week.

data "aws_region" "current" {}

locals {
  name   = "${var.project}-${var.environment}"
  region = data.aws_region.current.region
  tags   = merge(var.tags, { Project = var.project, Environment = var.environment })

  secrets_backend_kwargs = jsonencode({
    connections_prefix         = module.secrets.connections_prefix
    connections_lookup_pattern = "^(${join("|", var.connection_ids)})$"
    variables_prefix           = null
    config_prefix              = null
    region_name                = local.region
  })
}

module "network" {
  source = "../network"

  name                = local.name
  cidr_block          = var.vpc_cidr
  availability_zones  = var.availability_zones
  single_nat_gateway  = var.single_nat_gateway
  interface_endpoints = var.interface_endpoints
  cluster_name        = local.name
  tags                = local.tags
}

module "eks" {
  source = "../eks"

  name                   = local.name
  kubernetes_version     = var.kubernetes_version
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  endpoint_public_access = var.cluster_endpoint_public_access
  public_access_cidrs    = var.cluster_public_access_cidrs
  node_instance_types    = var.node_instance_types
  node_capacity_type     = var.node_capacity_type
  node_min_size          = var.node_min_size
  node_desired_size      = var.node_desired_size
  node_max_size          = var.node_max_size
  tags                   = local.tags
}

module "warehouse_db" {
  source = "../rds"

  identifier                   = "${local.name}-warehouse"
  purpose                      = "dbt warehouse"
  engine_version               = var.postgres_engine_version
  instance_class               = var.warehouse_instance_class
  allocated_storage_gib        = var.warehouse_allocated_storage_gib
  max_allocated_storage_gib    = var.warehouse_max_allocated_storage_gib
  db_name                      = "warehouse"
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  allowed_security_group_ids   = [module.eks.cluster_security_group_id]
  multi_az                     = var.multi_az
  deletion_protection          = var.deletion_protection
  backup_retention_days        = var.backup_retention_days
  performance_insights_enabled = var.performance_insights_enabled
  tags                         = local.tags
}

module "metadata_db" {
  source = "../rds"

  identifier                   = "${local.name}-airflow-metadata"
  purpose                      = "Airflow metadata"
  engine_version               = var.postgres_engine_version
  instance_class               = var.metadata_instance_class
  allocated_storage_gib        = var.metadata_allocated_storage_gib
  max_allocated_storage_gib    = 100
  db_name                      = "airflow"
  vpc_id                       = module.network.vpc_id
  subnet_ids                   = module.network.database_subnet_ids
  allowed_security_group_ids   = [module.eks.cluster_security_group_id]
  multi_az                     = var.multi_az
  deletion_protection          = var.deletion_protection
  backup_retention_days        = var.backup_retention_days
  performance_insights_enabled = var.performance_insights_enabled
  tags                         = local.tags
}

module "s3" {
  source = "../s3"

  name_prefix        = local.name
  log_retention_days = var.task_log_retention_days
  force_destroy      = var.force_destroy
  tags               = local.tags
}

module "secrets" {
  source = "../secrets"

  name_prefix          = local.name
  connection_ids       = var.connection_ids
  recovery_window_days = var.secrets_recovery_window_days
  tags                 = local.tags
}

module "iam" {
  source = "../iam"

  name_prefix            = local.name
  oidc_provider_arn      = module.eks.oidc_provider_arn
  oidc_provider          = module.eks.oidc_provider
  namespace              = var.airflow_namespace
  lake_bucket_arn        = module.s3.lake_bucket_arn
  lake_kms_key_arn       = module.s3.lake_kms_key_arn
  lake_prefixes          = [module.s3.bronze_prefix, module.s3.quarantine_prefix]
  logs_bucket_arn        = module.s3.logs_bucket_arn
  logs_kms_key_arn       = module.s3.logs_kms_key_arn
  logs_prefix            = module.s3.logs_prefix
  connection_secret_arns = module.secrets.connection_secret_arns
  secrets_kms_key_arn    = module.secrets.kms_key_arn
  tags                   = local.tags
}

module "ecr" {
  source = "../ecr"

  name         = "${local.name}/airflow"
  force_delete = var.force_destroy
  tags         = local.tags
}

# The Helm values that depend on this infrastructure (helm/values-infra.yaml.tftpl).
locals {
  helm_infra_values = templatefile("${path.module}/../../../helm/values-infra.yaml.tftpl", {
    image_repository       = module.ecr.repository_url
    region                 = local.region
    lake_bucket            = module.s3.lake_bucket_name
    logs_bucket            = module.s3.logs_bucket_name
    logs_prefix            = module.s3.logs_prefix
    secrets_backend_kwargs = local.secrets_backend_kwargs
    scheduler_role_arn     = module.iam.role_arns["scheduler"]
    api_server_role_arn    = module.iam.role_arns["api_server"]
    dag_processor_role_arn = module.iam.role_arns["dag_processor"]
    triggerer_role_arn     = module.iam.role_arns["triggerer"]
    worker_role_arn        = module.iam.role_arns["worker"]
  })
}
