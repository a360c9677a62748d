# Remote state in the bucket created by terraform/bootstrap, locked with an S3 lock file
# (use_lockfile, no DynamoDB table). The bucket and region are given at init time:
#   terraform -chdir=terraform/envs/prod init \
#     -backend-config="bucket=<state bucket>" -backend-config="region=<region>"
terraform {
  backend "s3" {
    key          = "game-market-pipeline/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}
