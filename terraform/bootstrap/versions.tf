terraform {
  required_version = ">= 1.10.0, < 2.0.0"

  # Local state on purpose: this root creates the bucket every other root keeps its state in.
  # Keep terraform.tfstate of this directory safe (it holds no secret) or import the bucket later.
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }
}
